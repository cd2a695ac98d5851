// Chapter 09 — attention vs CNN: convolutions by hand (matching torch.nn.functional.conv1d/conv2d),
// receptive fields of a stack of convolutions against one attention layer, local-window attention as
// a masked attention, and the Cordonnier et al. (2020) construction: 9 heads reproduce a 3x3
// convolution as alpha grows.
//
//   build/bin/ch09_attention_vs_cnn [--seq-len N] [--depth D] [--seed S] [--svg DIR] [--no-color]
//   build/bin/ch09_attention_vs_cnn --load DIR --save DIR [--stride S] [--padding P] [--dilation D]
#include "cli.hpp"
#include "contracts/04_masking.hpp"
#include "contracts/09_attention_vs_cnn.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "rng.hpp"
#include "svg.hpp"

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int seq_len = 64;                           // n, for the receptive fields
  int depth = 8;                              // layers in the receptive-field table
  int stride = 1, padding = 0, dilation = 1;  // for --load
};

const Vector kNoBias = Vector::from_shape({0});

// 1. Convolutions by hand.
void show_convolution() {
  print_section("1. A convolution slides one small kernel over the input");
  const Matrix x = {{1, 2, 4, 7, 11, 16, 22, 29}};
  const Tensor3 w = {{{-1, 0, 1}}};
  print_matrix("x (C_in = 1, L = 8)", x, {"x"}, {}, 0);
  fmt::print("kernel [-1 0 1] (C_out = 1, C_in = 1, K = 3): output[t] = x[t + 2] - x[t]\n");
  print_matrix("conv1d(x), padding 0: L_out = 8 - 3 + 1 = 6", conv1d(x, w, kNoBias, {1, 0, 1}), {"y"}, {}, 0);
  print_matrix("padding 1 keeps the length: L_out = 8 + 2 - 3 + 1 = 8", conv1d(x, w, kNoBias, {1, 1, 1}),
               {"y"}, {}, 0);
  print_matrix("stride 2 skips every other position: L_out = (8 - 3) / 2 + 1 = 3",
               conv1d(x, w, kNoBias, {2, 0, 1}), {"y"}, {}, 0);
  print_matrix("dilation 2 spreads the taps: x[t + 4] - x[t], L_out = 8 - 5 + 1 = 4",
               conv1d(x, w, kNoBias, {1, 0, 2}), {"y"}, {}, 0);
  fmt::print(
      "Every output sees a window of K inputs (dilation d: a span of d(K-1)+1); the same kernel is used\n"
      "at every position. conv2d does the same with a K x K window over (C, H, W).\n");
}

// The positions of the input that output `t` depends on, found by experiment: perturb each input
// position and see which outputs move (finite differences; everything here is linear or smooth).
template <class Layer>
std::size_t receptive_field(std::size_t n, std::size_t t, Layer&& layer, const Matrix& x) {
  const Matrix base = layer(x);
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Matrix moved = x;
    moved(0, i) += 1.0;
    if (std::abs(layer(moved)(0, t) - base(0, t)) > 1e-12) ++count;
  }
  return count;
}

// A stack of `depth` convolutions with kernel k (weights 1, padding keeping the length).
Matrix conv_stack(const Matrix& x, std::size_t depth, std::size_t k, bool dilated) {
  Matrix h = x;
  Tensor3 w = xt::ones<double>({std::size_t{1}, std::size_t{1}, k});
  for (std::size_t l = 0; l < depth; ++l) {
    const std::size_t d = dilated ? (std::size_t{1} << l) : 1;
    h = conv1d(h, w, kNoBias, {1, d * (k - 1) / 2, d});
  }
  return h;
}

struct Fields {
  std::vector<double> depth, conv3, conv5, dilated3, attention, window1;
};

// 2. Receptive fields, measured: which inputs can move the middle output?
Fields show_receptive_fields(const Options& opt, Rng& rng) {
  print_section("2. Receptive fields: how many inputs can change one output");
  const std::size_t n = opt.seq_len, t = n / 2;
  const Matrix x = rng.normal_matrix(1, n);
  // one attention layer over the n positions (values and keys from x, 1 feature)
  const auto attention = [&](const Matrix& in) {
    const Matrix col = xt::transpose(in);  // (n, 1): n tokens of one feature
    return Matrix(xt::transpose(scaled_dot_product_attention(col, col, col).output));
  };
  const auto window = [&](const Matrix& in, std::size_t layers) {
    Matrix h = in;
    BoolMatrix mask = xt::zeros<bool>({n, n});
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) mask(i, j) = (i > j ? i - j : j - i) > 1;
    for (std::size_t l = 0; l < layers; ++l) {
      const Matrix col = xt::transpose(h);
      h = xt::transpose(masked_attention(col, col, col, mask).output);
    }
    return h;
  };
  fmt::print(
      "n = {} positions; the output at t = {}; an input counts if changing it changes that output.\n\n", n,
      t);
  fmt::print("{:>6} {:>12} {:>12} {:>22} {:>22} {:>18}\n", "depth", "conv k=3", "conv k=5",
             "dilated k=3 (1,2,4..)", "local attention w=1", "full attention");
  Fields f;
  const std::size_t att = receptive_field(n, t, attention, x);
  for (std::size_t d = 1; d <= static_cast<std::size_t>(opt.depth); ++d) {
    f.depth.push_back(d);
    f.conv3.push_back(receptive_field(
        n, t, [&](const Matrix& in) { return conv_stack(in, d, 3, false); }, x));
    f.conv5.push_back(receptive_field(
        n, t, [&](const Matrix& in) { return conv_stack(in, d, 5, false); }, x));
    f.dilated3.push_back(receptive_field(
        n, t, [&](const Matrix& in) { return conv_stack(in, d, 3, true); }, x));
    f.window1.push_back(receptive_field(
        n, t, [&](const Matrix& in) { return window(in, d); }, x));
    f.attention.push_back(att);
    fmt::print("{:>6} {:>12} {:>12} {:>22} {:>22} {:>18}\n", d, f.conv3.back(), f.conv5.back(),
               f.dilated3.back(), f.window1.back(), att);
  }
  fmt::print(
      "\nA stack of k-wide convolutions sees 1 + depth (k - 1) inputs: it needs about n / (k - 1) layers\n"
      "to connect the two ends of the sequence. Doubling the dilation each layer grows it\n"
      "exponentially. One attention layer already sees all {} inputs; attention restricted to a window\n"
      "of +-1 grows exactly like a k = 3 convolution.\n",
      n);
  if (!opt.common.svg_dir.empty()) {
    PlotSpec spec;
    spec.title = fmt::format("Receptive field of one output, n = {}", n);
    spec.x_label = "layers";
    spec.y_label = "inputs that can change the output";
    write_line_plot_svg(opt.common.svg_dir, "09-receptive-field.svg", f.depth,
                        {{"conv k = 3", f.conv3},
                         {"conv k = 5", f.conv5},
                         {"dilated conv k = 3", f.dilated3},
                         {"attention", f.attention}},
                        spec);
  }
  return f;
}

// 3. Local-window attention is masked attention.
void show_window(const Options& opt) {
  print_section("3. Local-window attention = attention with a band mask");
  const std::size_t n = 8, w = 1;
  BoolMatrix mask = xt::zeros<bool>({n, n});
  Matrix shown = xt::zeros<double>({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      mask(i, j) = (i > j ? i - j : j - i) > w;
      shown(i, j) = mask(i, j) ? 1 : 0;
    }
  print_matrix("mask for a window of +-1 (1 = may not attend): chapter 04's masked_attention does the rest",
               shown, {}, {}, 0);
  fmt::print(
      "Each query sees itself and its neighbours, like a 3-wide kernel — but the weights are computed\n"
      "from the content (softmax of q.k) instead of being fixed per offset.\n");
  if (!opt.common.svg_dir.empty()) {
    HeatmapSpec spec;
    spec.title = "Band mask of local attention, window +-1 (1 = masked)";
    spec.row_axis = "query position";
    spec.col_axis = "key position";
    spec.decimals = 0;
    write_heatmap_svg(opt.common.svg_dir, "09-window-mask.svg", shown, spec);
  }
}

// 4. Cordonnier et al.: 9 heads with quadratic relative-position scores reproduce a 3x3 convolution.
std::vector<double> show_cordonnier(const Options& opt, Rng& rng, std::vector<double>& alphas) {
  print_section("4. Nine heads that become a 3 x 3 convolution (Cordonnier et al. 2020)");
  Tensor3 image = Tensor3::from_shape({2, 6, 6});
  for (double& v : image) v = rng.normal();
  Tensor4 weight = Tensor4::from_shape({3, 2, 3, 3});
  for (double& v : weight) v = rng.normal();
  const Vector bias = {0.1, -0.2, 0.3};
  const Tensor3 conv = conv2d(image, weight, bias, {1, 1, 1});
  fmt::print(
      "image (2, 6, 6), weight (3, 2, 3, 3). Head h = (i, j) scores every pixel k of the zero-padded\n"
      "image by -alpha |k - q - Delta_h|², Delta_h = (i - 1, j - 1), and projects what it reads with\n"
      "weight[:, :, i, j]. As alpha grows each head looks at one pixel only: q + Delta_h.\n\n");
  fmt::print("{:>8} {:>32}\n", "alpha", "max |attention - conv2d|");
  std::vector<double> errors;
  for (double alpha : {0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0}) {
    const double e = max_abs_diff(conv_as_attention(image, weight, bias, alpha), conv);
    alphas.push_back(alpha);
    errors.push_back(e);
    fmt::print("{:>8} {:>32.2e}\n", alpha, e);
  }
  fmt::print(
      "\nThe weight a head gives to a pixel one step off its target is about e^-alpha of the target's,\n"
      "so the error falls like e^-alpha: self-attention with enough heads can express any\n"
      "convolution. The converse does not hold: a convolution cannot look at content.\n");
  if (!opt.common.svg_dir.empty()) {
    PlotSpec spec;
    spec.title = "9-head attention against a 3 x 3 convolution";
    spec.x_label = "alpha";
    spec.y_label = "max |difference|";
    spec.log2_x = true;
    spec.log10_y = true;
    std::vector<double> floored;
    for (double e : errors) floored.push_back(std::max(e, 1e-17));
    write_line_plot_svg(opt.common.svg_dir, "09-cordonnier-error.svg", alphas, {{"max error", floored}},
                        spec);
  }
  return errors;
}

// --load DIR: torch.nn.functional.conv1d or conv2d on input.npy, weight.npy and optional bias.npy.
int run_loaded(const Options& opt) {
  const std::string& dir = opt.common.load_dir;
  const ConvSpec spec{static_cast<std::size_t>(opt.stride), static_cast<std::size_t>(opt.padding),
                      static_cast<std::size_t>(opt.dilation)};
  const NpyArray probe = read_npy(dir + "/input.npy", "input.npy");
  const auto check = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      throw usage_error(e.what());  // a shape that does not fit is bad input
    }
  };
  if (probe.shape.size() == 2) {
    const Matrix input = load_matrix(dir, "input", "(C_in, L)");
    const Tensor3 weight = load_tensor3(dir, "weight", "(C_out, C_in, K) for a (C_in, L) input");
    const Vector bias = npy_exists(dir, "bias") ? load_vector(dir, "bias", "(C_out,)") : kNoBias;
    Matrix out;
    check([&] { out = conv1d(input, weight, bias, spec); });
    print_title("Chapter 09 · conv1d on " + dir);
    print_matrix("output", out);
    if (!opt.common.save_dir.empty()) save_npy(opt.common.save_dir, "output", out);
  } else if (probe.shape.size() == 3) {
    const Tensor3 input = load_tensor3(dir, "input", "(C_in, H, W)");
    const Tensor4 weight = load_tensor4(dir, "weight", "(C_out, C_in, KH, KW) for a (C_in, H, W) input");
    const Vector bias = npy_exists(dir, "bias") ? load_vector(dir, "bias", "(C_out,)") : kNoBias;
    Tensor3 out;
    check([&] { out = conv2d(input, weight, bias, spec); });
    print_title("Chapter 09 · conv2d on " + dir);
    fmt::print("output {}\n", shape_of(out));
    for (std::size_t o = 0; o < std::min<std::size_t>(out.shape(0), 4); ++o)
      print_matrix(fmt::format("channel {}", o), Matrix(xt::view(out, o, xt::all(), xt::all())));
    if (!opt.common.save_dir.empty()) save_npy(opt.common.save_dir, "output", out);
  } else {
    throw usage_error(
        fmt::format("input.npy has {} axes; expected (C_in, L) for conv1d or (C_in, H, W) for conv2d",
                    probe.shape.size()));
  }
  if (!opt.common.save_dir.empty()) fmt::print("wrote output.npy to {}\n", opt.common.save_dir);
  return 0;
}

int run(const Options& opt) {
  if (!opt.common.load_dir.empty()) return run_loaded(opt);
  // the receptive-field experiment runs about n * depth * (an n x n attention) operations
  require_memory(8.0 * 8.0 * opt.seq_len * opt.seq_len, fmt::format("--seq-len {}", opt.seq_len));
  if (static_cast<double>(opt.seq_len) * opt.seq_len * opt.seq_len * opt.depth > 5e8)
    throw usage_error(
        fmt::format("--seq-len {} --depth {} would take minutes (n³ x depth > 5e8); choose smaller "
                    "sizes",
                    opt.seq_len, opt.depth));
  print_title("Chapter 09 · Attention vs CNN");
  print_config("receptive fields",
               fmt::format("n = {} (--seq-len), up to {} layers (--depth)", opt.seq_len, opt.depth));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  show_convolution();
  const Fields f = show_receptive_fields(opt, rng);
  show_window(opt);
  std::vector<double> alphas;
  const std::vector<double> errors = show_cordonnier(opt, rng, alphas);

  print_section("Self-checks");
  SelfChecks checks;
  bool linear_growth = true;
  for (std::size_t i = 0; i < f.depth.size(); ++i)
    linear_growth = linear_growth && f.conv3[i] == std::min<double>(1 + 2 * f.depth[i], opt.seq_len);
  checks.expect("a k = 3 stack sees 1 + 2 depth inputs", linear_growth);
  checks.expect("one attention layer sees all n inputs", f.attention[0] == opt.seq_len,
                fmt::format("{:.0f}", f.attention[0]));
  checks.expect("local attention +-1 grows like a k = 3 convolution", f.window1 == f.conv3);
  bool falling = true;
  for (std::size_t i = 1; i < errors.size(); ++i)
    falling = falling && (errors[i] < errors[i - 1] || errors[i] < 1e-14);
  checks.expect("the 9-head error falls as alpha grows", falling);
  checks.close("9 heads at alpha 40 reproduce the convolution", errors.back(), 1e-12);
  if (!opt.common.svg_dir.empty())
    fmt::print("wrote 09-receptive-field.svg, 09-window-mask.svg and 09-cordonnier-error.svg to {}\n",
               opt.common.svg_dir);
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 09: attention vs CNN: convolutions, receptive fields, 9 heads as a 3x3 conv",
               "ch09_attention_vs_cnn"};
  Options opt;
  add_size_option(app, "--seq-len", opt.seq_len, "Positions n in the receptive-field experiment", 100000);
  add_size_option(app, "--depth", opt.depth, "Layers in the receptive-field table", 1000);
  add_size_option(app, "--stride", opt.stride, "With --load: the convolution's stride", 100000);
  app.add_option("--padding", opt.padding, "With --load: zeros added on both sides")
      ->check(whole_number_in(0, 100000));
  add_size_option(app, "--dilation", opt.dilation, "With --load: the gap between kernel taps", 100000);
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

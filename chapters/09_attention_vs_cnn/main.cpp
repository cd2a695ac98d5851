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

// What the walkthrough needs, estimated from its sizes before it starts: a few (n, n) impulse
// responses; the work is dominated by the receptive-field stacks, about 60 n³ multiply-adds in all
// (conv1d of n impulses per layer for about n/2 layers, attention layers of n² weights each),
// calibrated against the program's own time at n = 256 and 368; and the table's 6 numbers per layer.
Cost cost_of(const Options& opt) {
  const double n = opt.seq_len;
  return {8.0 * 5.0 * n * n, 60.0 * n * n * n + 6.0 * opt.depth * printed_number};
}

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

// Receptive fields by impulse responses. Row i of `reach` (n, n) is the impulse response of input i
// after the layers so far: nonzero at every position input i can change. Every layer below mixes
// positions with nonnegative weights, so nothing cancels and only "reaches or not" matters: after each
// layer the entries are set back to 0 or 1, which keeps them finite however deep the stack.
Matrix reached(const Matrix& r) {
  Matrix out = xt::zeros<double>(r.shape());
  for (std::size_t i = 0; i < r.size(); ++i) out.flat(i) = r.flat(i) != 0.0 ? 1.0 : 0.0;
  return out;
}

// How many inputs reach position t: the receptive field of output t.
std::size_t field_at(const Matrix& reach, std::size_t t) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < reach.shape(0); ++i) count += reach(i, t) != 0.0 ? 1 : 0;
  return count;
}

// One k-wide convolution (all weights 1, dilation d, padding d (k - 1) / 2 keeping the length) applied
// by conv1d to every input's impulse response.
Matrix conv_layer(const Matrix& reach, std::size_t k, std::size_t d) {
  const Tensor3 w = xt::ones<double>({std::size_t{1}, std::size_t{1}, k});
  Matrix out = Matrix::from_shape(reach.shape());
  for (std::size_t i = 0; i < reach.shape(0); ++i) {
    const Matrix impulse = xt::view(reach, xt::range(i, i + 1), xt::all());  // (1, n)
    xt::view(out, i, xt::all()) =
        xt::view(conv1d(impulse, w, kNoBias, {1, d * (k - 1) / 2, d}), 0, xt::all());
  }
  return reached(out);
}

// One attention layer on the data h (n tokens of one feature), restricted by `mask` (chapter 04):
// position p reads position q with weight A(p, q), so the impulse responses move on as reach · Aᵀ.
// h moves on to the layer's output (the next layer's weights depend on it).
Matrix attention_layer(const Matrix& reach, Matrix& h, const BoolMatrix& mask) {
  const AttentionResult r = masked_attention(h, h, h, mask);
  h = r.output;
  const std::size_t n = reach.shape(0);
  Matrix out = xt::zeros<double>({n, n});
  for (std::size_t p = 0; p < n; ++p)
    for (std::size_t q = 0; q < n; ++q)
      if (r.weights(p, q) != 0.0)  // masked pairs have weight exactly 0: skip them
        for (std::size_t i = 0; i < n; ++i) out(i, p) += r.weights(p, q) * reach(i, q);
  return reached(out);
}

// The receptive field of output t after 1, 2, ..., max_depth layers of `layer(reach, l)`; stops
// once every input is reached (no layer here can shrink it).
template <class Layer>
std::vector<double> growth(std::size_t n, std::size_t t, std::size_t max_depth, Layer&& layer) {
  Matrix reach = xt::eye<double>(n);  // before any layer, each position depends on itself only
  std::vector<double> field;
  for (std::size_t l = 0; l < max_depth; ++l) {
    if (field.empty() || field.back() < n) reach = layer(reach, l);
    field.push_back(field_at(reach, t));
  }
  return field;
}

// The band mask of local attention: |i - j| > w may not attend.
BoolMatrix window_mask(std::size_t n, std::size_t w) {
  BoolMatrix mask = xt::zeros<bool>({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) mask(i, j) = (i > j ? i - j : j - i) > w;
  return mask;
}

// The first depth whose receptive field holds all n inputs (0 if none within the list).
std::size_t layers_to_see_all(const std::vector<double>& field, std::size_t n) {
  for (std::size_t l = 0; l < field.size(); ++l)
    if (field[l] == n) return l + 1;
  return 0;
}

struct Fields {
  std::vector<double> depth, conv3, conv5, dilated3, window1, attention;
};

// 2. Receptive fields, computed: which inputs can change the middle output?
Fields show_receptive_fields(const Options& opt, Rng& rng) {
  print_section("2. Receptive fields: how many inputs can change one output");
  const std::size_t n = opt.seq_len, t = n / 2, D = opt.depth;
  const std::size_t longest = std::max(D, n);  // enough layers for every stack to see everything
  const Matrix x = rng.normal_matrix(n, 1);    // the data the attention layers run on: n tokens
  fmt::print(
      "n = {} positions, output t = {}. Each input sends an impulse through the stack (conv1d, or the\n"
      "attention weights); it counts if its impulse reaches position t.\n\n",
      n, t);
  Fields f;
  f.conv3 = growth(n, t, longest, [](const Matrix& r, std::size_t) { return conv_layer(r, 3, 1); });
  f.conv5 = growth(n, t, longest, [](const Matrix& r, std::size_t) { return conv_layer(r, 5, 1); });
  // dilation 1, 2, 4, ... (once it passes n the side taps fall outside anyway)
  f.dilated3 = growth(n, t, longest, [n](const Matrix& r, std::size_t l) {
    return conv_layer(r, 3, l < 20 ? std::min<std::size_t>(std::size_t{1} << l, n) : n);
  });
  Matrix h = x;
  const BoolMatrix band = window_mask(n, 1);
  f.window1 =
      growth(n, t, longest, [&](const Matrix& r, std::size_t) { return attention_layer(r, h, band); });
  h = x;
  const BoolMatrix none = xt::zeros<bool>({n, n});
  f.attention =
      growth(n, t, longest, [&](const Matrix& r, std::size_t) { return attention_layer(r, h, none); });

  fmt::print("{:>6} {:>10} {:>10} {:>24} {:>22} {:>16}\n", "depth", "conv k=3", "conv k=5",
             "dilated k=3 (d=1,2,4..)", "local attention +-1", "full attention");
  for (std::size_t d = 1; d <= D; ++d) {
    f.depth.push_back(d);
    fmt::print("{:>6} {:>10} {:>10} {:>24} {:>22} {:>16}\n", d, f.conv3[d - 1], f.conv5[d - 1],
               f.dilated3[d - 1], f.window1[d - 1], f.attention[d - 1]);
  }
  fmt::print("{:>6} {:>10} {:>10} {:>24} {:>22} {:>16}\n", "all at", layers_to_see_all(f.conv3, n),
             layers_to_see_all(f.conv5, n), layers_to_see_all(f.dilated3, n), layers_to_see_all(f.window1, n),
             layers_to_see_all(f.attention, n));
  fmt::print(
      "\n\"all at\": the number of layers after which output t depends on all {} inputs. A stack of\n"
      "k-wide convolutions sees 1 + depth (k - 1) inputs, so it needs about n / (k - 1) layers;\n"
      "doubling the dilation each layer needs about log2 n. One attention layer sees everything;\n"
      "attention restricted to a window of +-1 grows exactly like a k = 3 convolution.\n",
      n);
  // the figure goes on until the slowest stack sees everything (32 layers for k = 3, n = 64)
  const std::size_t shown = std::max(D, layers_to_see_all(f.conv3, n));
  if (!opt.common.svg_dir.empty()) {
    std::vector<double> layers;
    for (std::size_t d = 1; d <= shown; ++d) layers.push_back(d);
    const auto first = [shown](const std::vector<double>& v) {
      return std::vector<double>(v.begin(), v.begin() + shown);
    };
    PlotSpec spec;
    spec.title = fmt::format("Receptive field of one output, n = {}", n);
    spec.x_label = "layers";
    spec.y_label = "inputs that can change the output";
    write_line_plot_svg(opt.common.svg_dir, "09-receptive-field.svg", layers,
                        {{"k = 3 / window +-1", first(f.conv3)},
                         {"conv k = 5", first(f.conv5)},
                         {"dilated conv k = 3", first(f.dilated3)},
                         {"attention", first(f.attention)}},
                        spec);
  }
  for (std::vector<double>* v : {&f.conv3, &f.conv5, &f.dilated3, &f.window1, &f.attention}) v->resize(D);
  return f;
}

// 3. Local-window attention is masked attention: the band mask of section 2, on 8 tokens.
// Returns the largest weight outside the window (it must be exactly 0).
double show_window(const Options& opt, Rng& rng) {
  print_section("3. Local-window attention = attention with a band mask");
  const std::size_t n = 8, w = 1;
  const BoolMatrix mask = window_mask(n, w);
  const Matrix shown = xt::cast<double>(mask);
  print_matrix("mask for a window of +-1 (1 = may not attend)", shown, {}, {}, 0);
  const Matrix x = rng.normal_matrix(n, 4);
  const AttentionResult r = masked_attention(x, x, x, mask);  // chapter 04, nothing new
  Labels tokens;
  for (std::size_t i = 0; i < n; ++i) tokens.push_back(fmt::format("t{}", i));
  print_heatmap("weights of masked_attention(x, x, x, mask), x (8, 4) random", r.weights, tokens, tokens);
  double outside = 0.0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (mask(i, j)) outside = std::max(outside, std::abs(r.weights(i, j)));
  fmt::print(
      "Each query sees itself and its two neighbours, like a 3-wide kernel; the largest weight outside\n"
      "the window is {}. But a kernel has one fixed weight per offset, the same for every position;\n"
      "here each row's three weights come from the content (softmax of q.k) and differ row by row.\n",
      outside);
  if (!opt.common.svg_dir.empty()) {
    HeatmapSpec spec;
    spec.title = "Band mask of local attention, window +-1 (1 = masked)";
    spec.row_axis = "query position";
    spec.col_axis = "key position";
    spec.decimals = 0;
    spec.rows = tokens;
    spec.cols = tokens;
    write_heatmap_svg(opt.common.svg_dir, "09-window-mask.svg", shown, spec);
    spec.title = "Local attention weights, window +-1";
    spec.decimals = 2;
    write_heatmap_svg(opt.common.svg_dir, "09-window-weights.svg", r.weights, spec);
  }
  return outside;
}

struct Cordonnier {
  std::vector<double> alphas, errors, border, inside;
};

// 4. Cordonnier et al.: 9 heads with quadratic relative-position scores reproduce a 3x3 convolution.
Cordonnier show_cordonnier(const Options& opt, const Tensor3& image, const Tensor4& weight,
                           const Vector& bias) {
  print_section("4. Nine heads that become a 3 x 3 convolution (Cordonnier et al. 2020)");
  const Tensor3 conv = conv2d(image, weight, bias, {1, 1, 1});
  const std::size_t H = image.shape(1), W = image.shape(2);
  fmt::print(
      "image {}, weight {}, bias {}. Head h = (i, j) scores every pixel k of the\n"
      "zero-padded image (8 x 8: the 6 x 6 image in a frame of zeros) by -alpha |k - q - Delta_h|²,\n"
      "Delta_h = (i - 1, j - 1), and projects what it reads with weight[:, :, i, j]. As alpha grows\n"
      "each head looks at one pixel only: q + Delta_h. For a pixel on the image's edge, some heads'\n"
      "target is a padding zero: exactly the zero conv2d with padding 1 multiplies, so both treat the\n"
      "border the same way.\n\n",
      shape_of(image), shape_of(weight), shape_of(bias));
  fmt::print("{:>7} {:>36} {:>14} {:>16}\n", "alpha", "max |attention - conv2d|: border", "inner pixels",
             "error x e^alpha");
  Cordonnier c;
  for (double alpha : {0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0}) {
    const Tensor3 diff = xt::abs(conv_as_attention(image, weight, bias, alpha) - conv);
    double border = 0.0, inside = 0.0;
    for (std::size_t o = 0; o < diff.shape(0); ++o)
      for (std::size_t y = 0; y < H; ++y)
        for (std::size_t x = 0; x < W; ++x) {
          const bool edge = y == 0 || x == 0 || y + 1 == H || x + 1 == W;
          (edge ? border : inside) = std::max(edge ? border : inside, diff(o, y, x));
        }
    c.alphas.push_back(alpha);
    c.errors.push_back(std::max(border, inside));
    c.border.push_back(border);
    c.inside.push_back(inside);
    const double e = c.errors.back();  // below 1e-13 it is rounding, no longer e^-alpha
    fmt::print("{:>7} {:>36.2e} {:>14.2e} {:>16}\n", alpha, border, inside,
               e > 1e-13 ? fmt::format("{:.3g}", e * std::exp(alpha)) : "(rounding)");
  }
  fmt::print(
      "\nA pixel one step off a head's target scores -alpha against the target's 0, so it gets about\n"
      "e^-alpha of the target's weight: the error falls like e^-alpha (error x e^alpha levels off)\n"
      "until it reaches rounding, about 1e-15. Self-attention with 9 heads can express any 3 x 3\n"
      "convolution. The converse does not hold: a convolution cannot look at content.\n");
  if (!opt.common.svg_dir.empty()) {
    PlotSpec spec;
    spec.title = "9-head attention against a 3 x 3 convolution";
    spec.x_label = "alpha";
    spec.y_label = "max |difference|";
    spec.log2_x = true;
    spec.log10_y = true;
    std::vector<double> floored;
    for (double e : c.errors) floored.push_back(std::max(e, 1e-17));
    write_line_plot_svg(opt.common.svg_dir, "09-cordonnier-error.svg", c.alphas, {{"max error", floored}},
                        spec);
  }
  return c;
}

// --save DIR in the walkthrough: section 4's image and kernel as PyTorch would read them, with
// conv2d's output: `--load DIR --padding 1` (or F.conv2d(x, w, b, padding=1)) reproduces it.
void save_example(const std::string& dir, const Tensor3& image, const Tensor4& weight, const Vector& bias) {
  save_npy(dir, "input", image);
  save_npy(dir, "weight", weight);
  save_npy(dir, "bias", bias);
  save_npy(dir, "output", conv2d(image, weight, bias, {1, 1, 1}));
  write_text_file(dir, "args.txt", "--stride 1 --padding 1 --dilation 1\n");
  fmt::print("\nwrote input, weight, bias, output .npy and args.txt (padding 1) to {}\n", dir);
}

// The first rows and columns of a result that may be large; the whole of it goes to --save.
void print_preview(const std::string& label, const Matrix& m) {
  const std::size_t rows = std::min<std::size_t>(m.shape(0), 8), cols = std::min<std::size_t>(m.shape(1), 10);
  const bool cut = rows < m.shape(0) || cols < m.shape(1);
  const Matrix part = xt::view(m, xt::range(0, rows), xt::range(0, cols));
  print_matrix(cut ? fmt::format("{} {}, first {} x {}:", label, shape_of(m), rows, cols) : label, part);
}

// --load DIR: torch.nn.functional.conv1d or conv2d on input.npy, weight.npy and optional bias.npy.
int run_loaded(const Options& opt) {
  const std::string& dir = opt.common.load_dir;
  const ConvSpec spec{static_cast<std::size_t>(opt.stride), static_cast<std::size_t>(opt.padding),
                      static_cast<std::size_t>(opt.dilation)};
  const NpyArray probe = read_npy(dir + "/input.npy", "input.npy");
  // The output's size from the shapes and the flags, before computing it (in double: no unsigned
  // wrap-around): on each axis L_out = (L + 2 padding - span) / stride + 1, rounded down, where the
  // dilated kernel spans dilation (K - 1) + 1 inputs. A kernel that does not fit is bad input; so is
  // an output too large to hold or to compute: C_in K taps per output element, each about 6
  // multiply-adds of work (its position and bounds are computed too; measured on conv2d_plain with
  // --padding 2500), and the output in fresh memory (the cost constants are in cli.hpp).
  const auto check = [&](const std::vector<std::size_t>& input, const std::vector<std::size_t>& weight) {
    double elements = static_cast<double>(weight[0]), taps = static_cast<double>(weight[1]);
    for (std::size_t a = 1; a < input.size(); ++a) {
      const double K = static_cast<double>(weight[a + 1]), padded = input[a] + 2.0 * opt.padding;
      if (K < 1) throw usage_error(fmt::format("weight.npy has a kernel of size 0 on axis {}", a + 1));
      const double span = opt.dilation * (K - 1) + 1;
      if (span > padded)
        throw usage_error(
            fmt::format("the kernel spans {:.0f} inputs (--dilation {} x (K - 1) + 1, K = {:.0f}) but the "
                        "padded input has "
                        "only {:.0f} (length {} + 2 x --padding {}) on axis {}",
                        span, opt.dilation, K, padded, input[a], opt.padding, a));
      elements *= std::floor((padded - span) / opt.stride) + 1;
      taps *= K;
    }
    require_within_limits({8.0 * elements, elements * (6.0 * taps + fresh_double)},
                          fmt::format("the output of --stride {} --padding {} --dilation {}", opt.stride,
                                      opt.padding, opt.dilation));
  };
  const auto convolve = [](const auto& f) {
    try {
      return f();
    } catch (const std::invalid_argument& e) {
      throw usage_error(e.what());
    }
  };
  if (probe.shape.size() == 2) {
    const Matrix input = load_matrix(dir, "input", "(C_in, L)");
    const Tensor3 weight = load_tensor3(dir, "weight", "(C_out, C_in, K) for a (C_in, L) input");
    const Vector bias = npy_exists(dir, "bias") ? load_vector(dir, "bias", "(C_out,)") : kNoBias;
    check(probe.shape, {weight.shape(0), weight.shape(1), weight.shape(2)});
    const Matrix out = convolve([&] { return conv1d(input, weight, bias, spec); });
    print_title("Chapter 09 · conv1d on " + dir);
    print_preview("output", out);
    if (!opt.common.save_dir.empty()) save_npy(opt.common.save_dir, "output", out);
  } else if (probe.shape.size() == 3) {
    const Tensor3 input = load_tensor3(dir, "input", "(C_in, H, W)");
    const Tensor4 weight = load_tensor4(dir, "weight", "(C_out, C_in, KH, KW) for a (C_in, H, W) input");
    const Vector bias = npy_exists(dir, "bias") ? load_vector(dir, "bias", "(C_out,)") : kNoBias;
    check(probe.shape, {weight.shape(0), weight.shape(1), weight.shape(2), weight.shape(3)});
    const Tensor3 out = convolve([&] { return conv2d(input, weight, bias, spec); });
    print_title("Chapter 09 · conv2d on " + dir);
    fmt::print("output {}\n", shape_of(out));
    for (std::size_t o = 0; o < std::min<std::size_t>(out.shape(0), 4); ++o)
      print_preview(fmt::format("channel {}", o), Matrix(xt::view(out, o, xt::all(), xt::all())));
    if (!opt.common.save_dir.empty()) save_npy(opt.common.save_dir, "output", out);
  } else {
    throw usage_error(
        fmt::format("input.npy has shape ({}); expected (C_in, L) for conv1d or (C_in, H, W) for conv2d",
                    fmt::join(probe.shape, ", ")));
  }
  if (!opt.common.save_dir.empty()) fmt::print("wrote output.npy to {}\n", opt.common.save_dir);
  return 0;
}

// The closing self-checks: every claim of the walkthrough, from the numbers it computed.
int self_checks(const Options& opt, const Fields& f, double outside, const Cordonnier& c) {
  print_section("Self-checks");
  SelfChecks checks;
  const double n = opt.seq_len;
  bool conv3 = true, conv5 = true, dilated = true;
  for (std::size_t i = 0; i < f.depth.size(); ++i) {
    const double d = f.depth[i];
    conv3 = conv3 && f.conv3[i] == std::min(1 + 2 * d, n);
    conv5 = conv5 && f.conv5[i] == std::min(1 + 4 * d, n);
    dilated = dilated && f.dilated3[i] == std::min(std::pow(2.0, d + 1) - 1, n);
  }
  checks.expect("a k = 3 stack sees 1 + 2 depth inputs, k = 5 sees 1 + 4 depth", conv3 && conv5);
  checks.expect("a dilated stack (1, 2, 4, ...) sees 2^(depth + 1) - 1 inputs", dilated);
  checks.expect("one attention layer sees all n inputs", f.attention[0] == n,
                fmt::format("{:.0f}", f.attention[0]));
  checks.expect("local attention +-1 grows like a k = 3 convolution", f.window1 == f.conv3);
  checks.close("local attention gives 0 weight outside its window", outside, 0.0);
  // Below alpha = 1 the heads still spread over the whole image and the error can rise a little
  // (0.25 -> 0.5 for 5 seeds in 200); from 1 on each head's own pixel dominates.
  bool falling = true;
  for (std::size_t i = 1; i < c.errors.size(); ++i)
    if (c.alphas[i - 1] >= 1.0) falling = falling && (c.errors[i] < c.errors[i - 1] || c.errors[i] < 1e-14);
  checks.expect("the 9-head error falls as alpha grows from 1", falling);
  // from alpha 10 to 20 the error should shrink by e^10 (within 10 %)
  const double ratio = c.errors[5] / c.errors[6] / std::exp(10.0);
  checks.expect("from alpha 10 to 20 it shrinks by e^10", std::abs(ratio - 1) < 0.1,
                fmt::format("{:.3f} x e^10", ratio));
  checks.close("9 heads at alpha 50 reproduce the convolution, border included", c.errors.back(), 1e-12);
  return checks.exit_code();
}

int run(const Options& opt) {
  if (!opt.common.load_dir.empty()) return run_loaded(opt);
  require_within_limits(cost_of(opt), fmt::format("--seq-len {} --depth {}", opt.seq_len, opt.depth));
  print_title("Chapter 09 · Attention vs CNN");
  print_config("receptive fields",
               fmt::format("n = {} (--seq-len), table up to {} layers (--depth)", opt.seq_len, opt.depth));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  show_convolution();
  const Fields f = show_receptive_fields(opt, rng);
  const double outside = show_window(opt, rng);
  Tensor3 image = Tensor3::from_shape({2, 6, 6});
  for (double& v : image) v = rng.normal();
  Tensor4 weight = Tensor4::from_shape({3, 2, 3, 3});
  for (double& v : weight) v = rng.normal();
  const Vector bias = {0.1, -0.2, 0.3};
  const Cordonnier c = show_cordonnier(opt, image, weight, bias);
  if (!opt.common.save_dir.empty()) save_example(opt.common.save_dir, image, weight, bias);
  const int status = self_checks(opt, f, outside, c);
  if (!opt.common.svg_dir.empty())
    fmt::print(
        "wrote 09-receptive-field.svg, 09-window-mask.svg, 09-window-weights.svg and\n"
        "09-cordonnier-error.svg to {}\n",
        opt.common.svg_dir);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 09: attention vs CNN: convolutions, receptive fields, 9 heads as a 3x3 conv",
               "ch09_attention_vs_cnn"};
  Options opt;
  add_size_option(app, "--seq-len", opt.seq_len, "Positions n in the receptive-field experiment",
                  largest_within_limits(&Options::seq_len, cost_of));
  add_size_option(app, "--depth", opt.depth, "Layers in the receptive-field table",
                  largest_within_limits(&Options::depth, cost_of));
  CLI::Option* stride =
      add_size_option(app, "--stride", opt.stride, "With --load: the convolution's stride", 100000);
  CLI::Option* padding = app.add_option("--padding", opt.padding, "With --load: zeros added on both sides")
                             ->check(whole_number_in(0, 100000))
                             ->capture_default_str();
  CLI::Option* dilation =
      add_size_option(app, "--dilation", opt.dilation, "With --load: the gap between kernel taps", 100000);
  add_common_options(app, opt.common, /*interop=*/true);
  for (CLI::Option* o : {stride, padding, dilation}) o->needs(app.get_option("--load"));
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

// Chapter 09 — attention vs CNN: convolutions by hand (matching torch.nn.functional.conv1d/conv2d),
// receptive fields of a stack of convolutions against one attention layer, local-window attention as
// a masked attention, and the Cordonnier et al. (2020) construction: 9 heads reproduce a 3x3
// convolution as alpha grows.
//
//   build/bin/ch09_attention_vs_cnn [--seq-len N] [--depth D] [--seed S] [--svg DIR] [--no-color]
//   build/bin/ch09_attention_vs_cnn --load DIR --save DIR [--stride S] [--padding P] [--dilation D]
//
// Each section computes into a named result (compute_...), then prints and draws from it (show_...);
// self_checks() checks the results; run() calls them in order.
#include "04_masking/contract.hpp"
#include "09_attention_vs_cnn/contract.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "results.hpp"
#include "rng.hpp"

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

// The flags, each setting a field of Options (the sizes up to what fits the limits, cost_of).
void add_flags(CLI::App& app, Options& opt) {
  add_size_flag(app, "--seq-len", opt, &Options::seq_len, "Positions n in the receptive-field experiment",
                cost_of);
  add_size_flag(app, "--depth", opt, &Options::depth, "Layers in the receptive-field table", cost_of);
  CLI::Option* stride =
      add_size_option(app, "--stride", opt.stride, "With --load: the convolution's stride", 100000);
  CLI::Option* padding = app.add_option("--padding", opt.padding, "With --load: zeros added on both sides")
                             ->check(whole_number_in(0, 100000))
                             ->capture_default_str();
  CLI::Option* dilation =
      add_size_option(app, "--dilation", opt.dilation, "With --load: the gap between kernel taps", 100000);
  add_common_options(app, opt.common, /*interop=*/true);
  for (CLI::Option* o : {stride, padding, dilation}) o->needs(app.get_option("--load"));
}

// --- 1. Convolutions by hand ------------------------------------------------------------------------------

// One kernel [-1 0 1] (C_out = 1, C_in = 1, K = 3) over one row x (1, 8), with four specs:
//   y[t] = sum_j w[j] x[t stride + j dilation - padding],
//   L_out = (L + 2 padding - dilation (K - 1) - 1) / stride + 1   (rounded down)
struct ConvExamples {
  Matrix x;                                // (1, 8)
  Matrix plain, padded, strided, dilated;  // (1, 6), (1, 8), (1, 3), (1, 4)
};

ConvExamples compute_convolutions() {
  const Tensor3 w = {{{-1, 0, 1}}};
  ConvExamples c;
  c.x = {{1, 2, 4, 7, 11, 16, 22, 29}};
  c.plain = conv1d(c.x, w, kNoBias, {1, 0, 1});    // stride 1, padding 0, dilation 1
  c.padded = conv1d(c.x, w, kNoBias, {1, 1, 1});   // padding 1
  c.strided = conv1d(c.x, w, kNoBias, {2, 0, 1});  // stride 2
  c.dilated = conv1d(c.x, w, kNoBias, {1, 0, 2});  // dilation 2
  return c;
}

void show_convolutions(const ConvExamples& c) {
  print_section("1. A convolution slides one small kernel over the input");
  print_matrix("x (C_in = 1, L = 8)", c.x, {"x"}, {}, 0);
  fmt::print("kernel [-1 0 1] (C_out = 1, C_in = 1, K = 3): output[t] = x[t + 2] - x[t]\n");
  print_matrix("conv1d(x), padding 0: L_out = 8 - 3 + 1 = 6", c.plain, {"y"}, {}, 0);
  print_matrix("padding 1 keeps the length: L_out = 8 + 2 - 3 + 1 = 8", c.padded, {"y"}, {}, 0);
  print_matrix("stride 2 skips every other position: L_out = (8 - 3) / 2 + 1 = 3", c.strided, {"y"}, {}, 0);
  print_matrix("dilation 2 spreads the taps: x[t + 4] - x[t], L_out = 8 - 5 + 1 = 4", c.dilated, {"y"}, {},
               0);
  fmt::print(
      "Every output sees a window of K inputs (dilation d: a span of d(K-1)+1); the same kernel is used\n"
      "at every position. conv2d does the same with a K x K window over (C, H, W).\n");
}

// --- 2. Receptive fields: which inputs can change the middle output? --------------------------------------
// By impulse responses. Row i of `reach` (n, n) is the impulse response of input i after the layers so
// far: nonzero at every position input i can change. Every layer below mixes positions with
// nonnegative weights, so nothing cancels and only "reaches or not" matters: after each layer the
// entries are set back to 0 or 1, which keeps them finite however deep the stack.

// r with every nonzero entry set to 1.
Matrix reached(const Matrix& r) {
  Matrix out = xt::zeros<double>(r.shape());
  for (std::size_t i = 0; i < r.shape(0); ++i)
    for (std::size_t j = 0; j < r.shape(1); ++j)
      if (r(i, j) != 0.0) out(i, j) = 1.0;
  return out;
}

// How many inputs reach position t: the receptive field of output t.
std::size_t field_at(const Matrix& reach, std::size_t t) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < reach.shape(0); ++i)
    if (reach(i, t) != 0.0) count += 1;
  return count;
}

// One k-wide convolution (all weights 1, dilation d, padding d (k - 1) / 2 keeping the length) applied
// by conv1d to every input's impulse response.   reach (n, n)  ->  (n, n)
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

// The receptive field of output t after each layer of a stack of k-wide convolutions, layer l having
// dilation dilations[l]; stops computing once every input is reached (no layer can shrink it).
std::vector<double> conv_growth(std::size_t n, std::size_t t, std::size_t k,
                                const std::vector<std::size_t>& dilations) {
  Matrix reach = xt::eye<double>(n);  // before any layer, each position depends on itself only
  std::vector<double> field;
  for (std::size_t dilation : dilations) {
    if (field.empty() || field.back() < n) reach = conv_layer(reach, k, dilation);
    field.push_back(field_at(reach, t));
  }
  return field;
}

// The same for `layers` attention layers on the data x (n tokens of one feature), restricted by `mask`
// (chapter 04): position p reads position q with weight A(p, q), so the impulse responses move on as
// reach · Aᵀ, and the data moves on to the layer's output (the next layer's weights depend on it).
std::vector<double> attention_growth(const Matrix& x, const BoolMatrix& mask, std::size_t t,
                                     std::size_t layers) {
  const std::size_t n = x.shape(0);
  Matrix reach = xt::eye<double>(n);
  Matrix h = x;
  std::vector<double> field;
  for (std::size_t l = 0; l < layers; ++l) {
    if (field.empty() || field.back() < n) {
      const AttentionResult r = masked_attention(h, h, h, mask);
      Matrix next = xt::zeros<double>({n, n});
      for (std::size_t p = 0; p < n; ++p)
        for (std::size_t q = 0; q < n; ++q)
          if (r.weights(p, q) != 0.0)  // masked pairs have weight exactly 0: skip them
            for (std::size_t i = 0; i < n; ++i) next(i, p) += r.weights(p, q) * reach(i, q);
      reach = reached(next);
      h = r.output;
    }
    field.push_back(field_at(reach, t));
  }
  return field;
}

// The band mask of local attention: |i - j| > w may not attend.
BoolMatrix window_mask(std::size_t n, std::size_t w) {
  BoolMatrix mask = xt::zeros<bool>({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t distance = i > j ? i - j : j - i;
      mask(i, j) = distance > w;
    }
  return mask;
}

// The first depth whose receptive field holds all n inputs (0 if none within the list).
std::size_t layers_to_see_all(const std::vector<double>& field, std::size_t n) {
  for (std::size_t l = 0; l < field.size(); ++l)
    if (field[l] == n) return l + 1;
  return 0;
}

// The first `count` entries of v.
std::vector<double> first(const std::vector<double>& v, std::size_t count) {
  return std::vector<double>(v.begin(), v.begin() + count);
}

// The receptive field of the middle output t = n / 2 after 1, 2, ..., max(depth, n) layers (enough for
// every stack to see everything); the table shows the first `depth`.
struct ReceptiveFields {
  std::size_t n = 0, t = 0, depth = 0;
  std::vector<double> conv3, conv5;  // k = 3 and k = 5 convolutions, dilation 1
  std::vector<double> dilated3;      // k = 3, dilation 1, 2, 4, ... (capped at n)
  std::vector<double> window1;       // attention restricted to a window of +-1
  std::vector<double> attention;     // full attention
};

ReceptiveFields compute_receptive_fields(const Options& opt, Rng& rng) {
  ReceptiveFields f;
  f.n = opt.seq_len;
  f.t = f.n / 2;
  f.depth = opt.depth;
  const std::size_t layers = std::max(f.depth, f.n);
  const Matrix x = rng.normal_matrix(f.n, 1);  // the data the attention layers run on: n tokens
  const std::vector<std::size_t> ones(layers, 1);
  std::vector<std::size_t> doubling;  // 1, 2, 4, ...; once it passes n the side taps fall outside anyway
  std::size_t dilation = 1;
  for (std::size_t l = 0; l < layers; ++l) {
    doubling.push_back(std::min(dilation, f.n));
    if (dilation < f.n) dilation *= 2;
  }
  f.conv3 = conv_growth(f.n, f.t, 3, ones);
  f.conv5 = conv_growth(f.n, f.t, 5, ones);
  f.dilated3 = conv_growth(f.n, f.t, 3, doubling);
  f.window1 = attention_growth(x, window_mask(f.n, 1), f.t, layers);
  f.attention = attention_growth(x, xt::zeros<bool>({f.n, f.n}), f.t, layers);
  return f;
}

void show_receptive_fields(const ReceptiveFields& f, Figures& figures) {
  print_section("2. Receptive fields: how many inputs can change one output");
  fmt::print(
      "n = {} positions, output t = {}. Each input sends an impulse through the stack (conv1d, or the\n"
      "attention weights); it counts if its impulse reaches position t.\n\n",
      f.n, f.t);
  fmt::print("{:>6} {:>10} {:>10} {:>24} {:>22} {:>16}\n", "depth", "conv k=3", "conv k=5",
             "dilated k=3 (d=1,2,4..)", "local attention +-1", "full attention");
  for (std::size_t l = 0; l < f.depth; ++l) {
    fmt::print("{:>6} {:>10} {:>10} {:>24} {:>22} {:>16}\n", l + 1, f.conv3[l], f.conv5[l], f.dilated3[l],
               f.window1[l], f.attention[l]);
  }
  fmt::print("{:>6} {:>10} {:>10} {:>24} {:>22} {:>16}\n", "all at", layers_to_see_all(f.conv3, f.n),
             layers_to_see_all(f.conv5, f.n), layers_to_see_all(f.dilated3, f.n),
             layers_to_see_all(f.window1, f.n), layers_to_see_all(f.attention, f.n));
  fmt::print(
      "\n\"all at\": the number of layers after which output t depends on all {} inputs. A stack of\n"
      "k-wide convolutions sees 1 + depth (k - 1) inputs, so it needs about n / (k - 1) layers;\n"
      "doubling the dilation each layer needs about log2 n. One attention layer sees everything;\n"
      "attention restricted to a window of +-1 grows exactly like a k = 3 convolution.\n",
      f.n);
  // the figure goes on until the slowest stack sees everything (32 layers for k = 3, n = 64)
  const std::size_t shown = std::max(f.depth, layers_to_see_all(f.conv3, f.n));
  std::vector<double> layers;
  for (std::size_t l = 1; l <= shown; ++l) layers.push_back(l);
  const PlotSpec spec{fmt::format("Receptive field of one output, n = {}", f.n), "layers",
                      "inputs that can change the output"};
  figures.line_plot("09-receptive-field.svg", layers,
                    {{"k = 3 / window +-1", first(f.conv3, shown)},
                     {"conv k = 5", first(f.conv5, shown)},
                     {"dilated conv k = 3", first(f.dilated3, shown)},
                     {"attention", first(f.attention, shown)}},
                    spec);
}

// --- 3. Local-window attention is masked attention: the band mask of section 2, on 8 tokens -----------

struct WindowExample {
  BoolMatrix mask;     // (8, 8): |i - j| > 1 may not attend
  Matrix weights;      // (8, 8): masked_attention(x, x, x, mask).weights, x (8, 4) random
  double outside = 0;  // the largest weight outside the window (it must be exactly 0)
};

WindowExample compute_window(Rng& rng) {
  const std::size_t n = 8;
  WindowExample w;
  w.mask = window_mask(n, 1);
  const Matrix x = rng.normal_matrix(n, 4);
  w.weights = masked_attention(x, x, x, w.mask).weights;  // chapter 04, nothing new
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (w.mask(i, j)) w.outside = std::max(w.outside, std::abs(w.weights(i, j)));
  return w;
}

void show_window(const WindowExample& w, Figures& figures) {
  print_section("3. Local-window attention = attention with a band mask");
  const Matrix mask = xt::cast<double>(w.mask);
  const Labels tokens = numbered("t", w.mask.shape(0));
  print_matrix("mask for a window of +-1 (1 = may not attend)", mask, {}, {}, 0);
  print_heatmap("weights of masked_attention(x, x, x, mask), x (8, 4) random", w.weights, tokens, tokens);
  fmt::print(
      "Each query sees itself and its two neighbours, like a 3-wide kernel; the largest weight outside\n"
      "the window is {}. But a kernel has one fixed weight per offset, the same for every position;\n"
      "here each row's three weights come from the content (softmax of q.k) and differ row by row.\n",
      w.outside);
  figures.heatmap("09-window-mask.svg", mask,
                  heatmap_spec("Band mask of local attention, window +-1 (1 = masked)", tokens, tokens,
                               "query position", "key position")
                      .with_decimals(0));
  figures.heatmap(
      "09-window-weights.svg", w.weights,
      heatmap_spec("Local attention weights, window +-1", tokens, tokens, "query position", "key position"));
}

// --- 4. Cordonnier et al.: 9 heads with quadratic relative-position scores reproduce a 3x3 convolution ---

// The error of conv_as_attention against conv2d (padding 1) at one alpha, on border pixels and inside.
struct CordonnierRow {
  double alpha = 0;
  double border = 0, inside = 0;  // max |attention - conv2d| over border pixels / inner pixels
  double error = 0;               // the larger of the two
};

struct Cordonnier {
  Tensor3 image;                    // (2, 6, 6), normal
  Tensor4 weight;                   // (3, 2, 3, 3), normal
  Vector bias;                      // (3)
  std::vector<CordonnierRow> rows;  // alpha = 0.25, 0.5, 1, 2, 5, 10, 20, 30, 40, 50
};

Cordonnier compute_cordonnier(Rng& rng) {
  Cordonnier c;
  c.image = Tensor3::from_shape({2, 6, 6});
  for (double& v : c.image) v = rng.normal();
  c.weight = Tensor4::from_shape({3, 2, 3, 3});
  for (double& v : c.weight) v = rng.normal();
  c.bias = {0.1, -0.2, 0.3};
  const Tensor3 conv = conv2d(c.image, c.weight, c.bias, {1, 1, 1});
  const std::size_t H = c.image.shape(1), W = c.image.shape(2);
  for (double alpha : {0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0}) {
    const Tensor3 attention = conv_as_attention(c.image, c.weight, c.bias, alpha);
    CordonnierRow row;
    row.alpha = alpha;
    for (std::size_t o = 0; o < conv.shape(0); ++o)
      for (std::size_t y = 0; y < H; ++y)
        for (std::size_t x = 0; x < W; ++x) {
          const double diff = std::abs(attention(o, y, x) - conv(o, y, x));
          const bool edge = y == 0 || x == 0 || y + 1 == H || x + 1 == W;
          if (edge) {
            row.border = std::max(row.border, diff);
          } else {
            row.inside = std::max(row.inside, diff);
          }
        }
    row.error = std::max(row.border, row.inside);
    c.rows.push_back(row);
  }
  return c;
}

// The error at one of the alphas computed (INFINITY if it was not computed).
double error_at(const Cordonnier& c, double alpha) {
  for (const CordonnierRow& row : c.rows)
    if (row.alpha == alpha) return row.error;
  return INFINITY;
}

void show_cordonnier(const Cordonnier& c, Figures& figures) {
  print_section("4. Nine heads that approach a 3 x 3 convolution (Cordonnier et al. 2020)");
  fmt::print(
      "image {}, weight {}, bias {}. Head h = (i, j) scores every pixel k of the\n"
      "zero-padded image (8 x 8: the 6 x 6 image in a frame of zeros) by -alpha |k - q - Delta_h|²,\n"
      "Delta_h = (i - 1, j - 1), and projects what it reads with weight[:, :, i, j]. As alpha grows\n"
      "each head looks at one pixel only: q + Delta_h. For a pixel on the image's edge, some heads'\n"
      "target is a padding zero: exactly the zero conv2d with padding 1 multiplies, so both treat the\n"
      "border the same way.\n\n",
      shape_of(c.image), shape_of(c.weight), shape_of(c.bias));
  fmt::print("{:>7} {:>36} {:>14} {:>16}\n", "alpha", "max |attention - conv2d|: border", "inner pixels",
             "error x e^alpha");
  for (const CordonnierRow& row : c.rows) {
    // below 1e-13 the error is rounding, no longer e^-alpha
    const std::string scaled =
        row.error > 1e-13 ? fmt::format("{:.3g}", row.error * std::exp(row.alpha)) : "(rounding)";
    fmt::print("{:>7} {:>36.2e} {:>14.2e} {:>16}\n", row.alpha, row.border, row.inside, scaled);
  }
  fmt::print(
      "\nA pixel one step off a head's target scores -alpha against the target's 0, so it gets about\n"
      "e^-alpha of the target's weight: the error falls like e^-alpha (error x e^alpha levels off)\n"
      "until it reaches rounding, about 1e-15. So 9 heads approach any 3 x 3 convolution as alpha\n"
      "grows, exact only in the limit alpha -> infinity, and only because each head's value is\n"
      "C_out = {} wide. The converse does not hold: a convolution cannot look at content.\n",
      c.weight.shape(0));
  // on a log scale: errors below 1e-17 (rounding) are drawn at 1e-17
  std::vector<double> alphas, errors;
  for (const CordonnierRow& row : c.rows) {
    alphas.push_back(row.alpha);
    errors.push_back(std::max(row.error, 1e-17));
  }
  const PlotSpec spec{"9-head attention against a 3 x 3 convolution", "alpha", "max |difference|",
                      /*log2_x=*/true, /*log10_y=*/true};
  figures.line_plot("09-cordonnier-error.svg", alphas, {{"max error", errors}}, spec);
}

// --save DIR in the walkthrough: section 4's image and kernel as PyTorch would read them, with
// conv2d's output: `--load DIR --padding 1` (or F.conv2d(x, w, b, padding=1)) reproduces it.
void save_example(const std::string& dir, const Cordonnier& c) {
  const Tensor3 output = conv2d(c.image, c.weight, c.bias, {1, 1, 1});
  report_results({named_result("input", c.image), named_result("weight", c.weight),
                  named_result("bias", c.bias), named_result("output", output)},
                 dir);
  write_text_file(dir, "args.txt", "--stride 1 --padding 1 --dilation 1\n");
  fmt::print("wrote args.txt (--padding 1) to {}\n", dir);
}

// --- Self-checks: every claim of the walkthrough, from the numbers it computed --------------------------

int self_checks(const ReceptiveFields& f, const WindowExample& w, const Cordonnier& c) {
  print_section("Self-checks");
  SelfChecks checks;
  const double n = static_cast<double>(f.n);
  bool conv3 = true, conv5 = true, dilated = true;
  for (std::size_t l = 0; l < f.depth; ++l) {
    const double depth = static_cast<double>(l + 1);
    conv3 = conv3 && f.conv3[l] == std::min(1 + 2 * depth, n);
    conv5 = conv5 && f.conv5[l] == std::min(1 + 4 * depth, n);
    dilated = dilated && f.dilated3[l] == std::min(std::pow(2.0, depth + 1) - 1, n);
  }
  checks.expect("a k = 3 stack sees 1 + 2 depth inputs, k = 5 sees 1 + 4 depth", conv3 && conv5);
  checks.expect("a dilated stack (1, 2, 4, ...) sees 2^(depth + 1) - 1 inputs", dilated);
  checks.expect("one attention layer sees all n inputs", f.attention[0] == n,
                fmt::format("{:.0f}", f.attention[0]));
  checks.expect("local attention +-1 grows like a k = 3 convolution",
                first(f.window1, f.depth) == first(f.conv3, f.depth));
  checks.close("local attention gives 0 weight outside its window", w.outside, 0.0);
  // Below alpha = 1 the heads still spread over the whole image and the error can rise a little
  // (0.25 -> 0.5 for 5 seeds in 200); from 1 on each head's own pixel dominates.
  bool falling = true;
  for (std::size_t i = 1; i < c.rows.size(); ++i) {
    const CordonnierRow &before = c.rows[i - 1], &row = c.rows[i];
    if (before.alpha >= 1.0) falling = falling && (row.error < before.error || row.error < 1e-14);
  }
  checks.expect("the 9-head error falls as alpha grows from 1", falling);
  // from alpha 10 to 20 the error should shrink by e^10 (within 10 %)
  const double ratio = error_at(c, 10.0) / error_at(c, 20.0) / std::exp(10.0);
  checks.expect("from alpha 10 to 20 it shrinks by e^10", std::abs(ratio - 1) < 0.1,
                fmt::format("{:.3f} x e^10", ratio));
  checks.close("9 heads at alpha 50 match the convolution to rounding, border included", error_at(c, 50.0),
               1e-12);
  return checks.exit_code();
}

// --- --load DIR: torch.nn.functional.conv1d or conv2d on input.npy, weight.npy and optional bias.npy ----

// The first rows and columns of a result that may be large; the whole of it goes to --save.
void print_preview(const std::string& label, const Matrix& m) {
  const std::size_t rows = std::min<std::size_t>(m.shape(0), 8), cols = std::min<std::size_t>(m.shape(1), 10);
  const bool cut = rows < m.shape(0) || cols < m.shape(1);
  const Matrix part = xt::view(m, xt::range(0, rows), xt::range(0, cols));
  print_matrix(cut ? fmt::format("{} {}, first {} x {}:", label, shape_of(m), rows, cols) : label, part);
}

// One of the two is computed, as input.npy is (C_in, L) or (C_in, H, W).
struct LoadedConv {
  bool two_d = false;
  Matrix output1d;   // conv1d: (C_out, L_out)
  Tensor3 output2d;  // conv2d: (C_out, H_out, W_out)
};

LoadedConv compute_loaded(const Options& opt) {
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
  // conv1d / conv2d throw std::invalid_argument for shapes that do not fit: bad input here
  const auto convolve = [](const auto& f) {
    try {
      return f();
    } catch (const std::invalid_argument& e) {
      throw usage_error(e.what());
    }
  };
  LoadedConv r;
  if (probe.shape.size() == 2) {
    const Matrix input = load_matrix(dir, "input", "(C_in, L)");
    const Tensor3 weight = load_tensor3(dir, "weight", "(C_out, C_in, K) for a (C_in, L) input");
    const Vector bias = npy_exists(dir, "bias") ? load_vector(dir, "bias", "(C_out,)") : kNoBias;
    check(probe.shape, {weight.shape(0), weight.shape(1), weight.shape(2)});
    require_no_unread_files(dir, {"output"}, "conv1d's files (input, weight, bias)");
    r.output1d = convolve([&] { return conv1d(input, weight, bias, spec); });
  } else if (probe.shape.size() == 3) {
    const Tensor3 input = load_tensor3(dir, "input", "(C_in, H, W)");
    const Tensor4 weight = load_tensor4(dir, "weight", "(C_out, C_in, KH, KW) for a (C_in, H, W) input");
    const Vector bias = npy_exists(dir, "bias") ? load_vector(dir, "bias", "(C_out,)") : kNoBias;
    check(probe.shape, {weight.shape(0), weight.shape(1), weight.shape(2), weight.shape(3)});
    require_no_unread_files(dir, {"output"}, "conv2d's files (input, weight, bias)");
    r.two_d = true;
    r.output2d = convolve([&] { return conv2d(input, weight, bias, spec); });
  } else {
    throw usage_error(
        fmt::format("input.npy has shape ({}); expected (C_in, L) for conv1d or (C_in, H, W) for conv2d",
                    fmt::join(probe.shape, ", ")));
  }
  return r;
}

// output.npy: its first rows and columns are printed (the first 4 channels of conv2d's); --save DIR
// writes all of it.
NamedResult loaded_output(const LoadedConv& r) {
  if (!r.two_d) return named_result("output", r.output1d, [&r] { print_preview("output", r.output1d); });
  return named_result("output", r.output2d, [&r] {
    fmt::print("output {}\n", shape_of(r.output2d));
    for (std::size_t o = 0; o < std::min<std::size_t>(r.output2d.shape(0), 4); ++o)
      print_preview(fmt::format("channel {}", o), Matrix(xt::view(r.output2d, o, xt::all(), xt::all())));
  });
}

int run_loaded(const Options& opt) {
  const LoadedConv r = compute_loaded(opt);
  print_title(fmt::format("Chapter 09 · {} on {}", r.two_d ? "conv2d" : "conv1d", opt.common.load_dir));
  report_results({loaded_output(r)}, opt.common.save_dir);
  return 0;
}

int run(const Options& opt) {
  if (!opt.common.load_dir.empty()) return run_loaded(opt);
  require_within_limits(cost_of(opt), fmt::format("--seq-len {} --depth {}", opt.seq_len, opt.depth));
  print_title("Chapter 09 · Attention vs CNN");
  print_config("receptive fields",
               fmt::format("n = {} (--seq-len), table up to {} layers (--depth)", opt.seq_len, opt.depth));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  Figures figures(opt.common);
  const ConvExamples convolutions = compute_convolutions();
  show_convolutions(convolutions);
  const ReceptiveFields fields = compute_receptive_fields(opt, rng);
  show_receptive_fields(fields, figures);
  const WindowExample window = compute_window(rng);
  show_window(window, figures);
  const Cordonnier cordonnier = compute_cordonnier(rng);
  show_cordonnier(cordonnier, figures);
  if (!opt.common.save_dir.empty()) save_example(opt.common.save_dir, cordonnier);
  const int status = self_checks(fields, window, cordonnier);
  figures.report();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 09: attention vs CNN: convolutions, receptive fields, 9 heads as a 3x3 conv",
               "ch09_attention_vs_cnn"};
  Options opt;
  add_flags(app, opt);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

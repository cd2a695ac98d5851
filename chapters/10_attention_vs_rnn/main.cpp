// Chapter 10 — attention vs RNN: an Elman RNN with torch.nn.RNN's semantics; Vaswani et al.'s
// Table 1 (cost per layer, sequential operations, maximum path length) measured by counting; how
// strongly output t depends on input 0, by finite differences. The timing comparison is a separate
// benchmark: build/bin/bench_10_layers.
//
//   build/bin/ch10_attention_vs_rnn [--seq-len N] [--d-model D] [--kernel K] [--seed S] [--svg DIR]
//   build/bin/ch10_attention_vs_rnn --load DIR --save DIR      (torch.nn.RNN, tanh, one layer)
#include "cli.hpp"
#include "contracts/03_self_attention.hpp"
#include "contracts/10_attention_vs_rnn.hpp"
#include "print.hpp"
#include "rng.hpp"
#include "svg.hpp"

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int seq_len = 32;  // n
  int d_model = 8;   // d
  int kernel = 3;    // k, for the convolution column
};

// RNN weights drawn like torch.nn.RNN (uniform in +-1/sqrt(H)), recurrent matrix scaled so that the
// RNN is stable (its state forgets, as trained RNNs tend to).
RnnWeights random_rnn(Rng& rng, std::size_t d_in, std::size_t H) {
  const double a = 1.0 / std::sqrt(static_cast<double>(H));
  return {rng.uniform_matrix(H, d_in, -a, a), 1.5 * rng.uniform_matrix(H, H, -a, a),
          Vector(xt::view(rng.uniform_matrix(1, H, -a, a), 0)),
          Vector(xt::view(rng.uniform_matrix(1, H, -a, a), 0))};
}

// 1. The RNN: one step after the other.
void show_rnn(Rng& rng) {
  print_section("1. An Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)");
  const std::size_t L = 5, d = 3, H = 4;
  const RnnWeights w = random_rnn(rng, d, H);
  const Matrix x = rng.normal_matrix(L, d);
  const RnnResult r = rnn_forward(x, w, xt::zeros<double>({std::size_t{1}, H}));
  print_matrix("input x (L, H_in)", x, {"x1", "x2", "x3", "x4", "x5"}, {}, 3);
  print_matrix("output (L, H): h_1 .. h_L", r.output, {"h1", "h2", "h3", "h4", "h5"}, {}, 3);
  print_matrix("h_n (1, H): the last state", r.h_n, {"h_n"}, {}, 3);
  fmt::print(
      "h_t needs h_(t-1): the {} steps run one after the other, whatever the hardware. Everything the\n"
      "RNN knows about x_1 when it reaches step t has passed through t - 1 tanh layers.\n",
      L);
}

// --- Table 1, measured -------------------------------------------------------------------------------
// Each layer is computed with plain loops that count their multiply-adds and record, for every value
// they produce, its depth: 1 + the largest depth of the values it reads (inputs have depth 0). The
// largest depth is the number of operations that must run one after the other.
struct Count {
  double macs = 0;
  int depth = 0;  // sequential operations
};

// Self-attention with Q = K = V = X: scores (n x n, d each) and weights x V (n x n, d each).
Count count_attention(std::size_t n, std::size_t d) {
  Count c;
  std::vector<int> depth(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    c.macs += static_cast<double>(n) * d;  // scores of query i
    c.macs += static_cast<double>(n) * d;  // its weighted sum of values
    depth[i] = 1;                          // reads only the inputs (depth 0)
  }
  c.depth = *std::max_element(depth.begin(), depth.end());
  return c;
}

// The RNN: h_t from x_t (d x d) and h_(t-1) (d x d).
Count count_rnn(std::size_t n, std::size_t d) {
  Count c;
  int previous = 0;  // depth of h_0
  for (std::size_t t = 0; t < n; ++t) {
    c.macs += 2.0 * d * d;
    previous = 1 + std::max(previous, 0);  // h_t reads h_(t-1) and x_t
    c.depth = previous;
  }
  return c;
}

// A convolution of width k over n positions, d channels in and out.
Count count_conv(std::size_t n, std::size_t d, std::size_t k) {
  Count c;
  for (std::size_t t = 0; t < n; ++t) c.macs += static_cast<double>(k) * d * d;
  c.depth = 1;
  return c;
}

// Maximum path length: the fewest layers (attention, conv) or steps (RNN) that carry information
// from position 0 to position n - 1, found by growing the set of positions that input 0 reaches.
int path_attention(std::size_t n) {
  std::vector<bool> reached(n, false);
  reached[0] = true;
  int layers = 0;
  while (!reached[n - 1]) {
    std::fill(reached.begin(), reached.end(), true);  // every query reads every key
    ++layers;
  }
  return std::max(layers, 1);
}
int path_rnn(std::size_t n) {
  // x_0 enters h_0; each step moves the information one position on
  std::size_t at = 0;
  int steps = 1;
  while (at < n - 1) {
    ++at;
    ++steps;
  }
  return steps;
}
int path_conv(std::size_t n, std::size_t k, bool dilated) {
  std::size_t reach = 0;  // farthest position that depends on input 0
  int layers = 0;
  std::size_t dilation = 1;
  while (reach < n - 1) {
    reach += dilation * (k - 1) / 2 + (k - 1) % 2;  // a centred kernel reaches (k - 1)/2 dilated steps
    ++layers;
    if (dilated) dilation *= k;
  }
  return std::max(layers, 1);
}

bool show_table(const Options& opt) {
  print_section("2. Vaswani et al. (2017), Table 1 — measured, not quoted");
  const std::size_t d = opt.d_model, k = opt.kernel;
  bool matches = true;
  for (std::size_t n : {std::size_t(opt.seq_len), std::size_t(opt.seq_len) * 8}) {
    const Count a = count_attention(n, d), r = count_rnn(n, d), c = count_conv(n, d, k);
    fmt::print("n = {}, d = {}, k = {}:\n", n, d, k);
    fmt::print("{:<16} {:>20} {:>12} {:>14} {:>22}\n", "layer", "multiply-adds", "formula", "sequential ops",
               "max path length");
    fmt::print("{:<16} {:>20.0f} {:>12} {:>14} {:>22}\n", "self-attention", a.macs, "2 n² d", a.depth,
               path_attention(n));
    fmt::print("{:<16} {:>20.0f} {:>12} {:>14} {:>22}\n", "recurrent", r.macs, "2 n d²", r.depth,
               path_rnn(n));
    fmt::print("{:<16} {:>20.0f} {:>12} {:>14} {:>22}\n", "convolution", c.macs, "k n d²", c.depth,
               fmt::format("{} (dilated: {})", path_conv(n, k, false), path_conv(n, k, true)));
    matches = matches && a.macs == 2.0 * n * n * d && r.macs == 2.0 * n * d * d &&
              c.macs == 1.0 * k * n * d * d && a.depth == 1 && r.depth == static_cast<int>(n) && c.depth == 1;
  }
  fmt::print(
      "\nThe paper's Table 1 in the same order: O(n² d), O(n d²), O(k n d²) per layer; O(1), O(n), O(1)\n"
      "sequential operations; O(1), O(n), O(log_k n) path length. Attention costs less than an RNN\n"
      "per layer while n < d (here 2n²d < 2nd² needs n < {}), runs in one parallel step, and\n"
      "connects any two positions directly. Multiplying n by 8 multiplied the attention count by 64.\n",
      d);
  return matches;
}

// 3. How much output t depends on input 0.
struct Sensitivities {
  Vector rnn, attention;
};

Sensitivities show_sensitivity(const Options& opt, Rng& rng) {
  print_section("3. How strongly output t depends on input 0 (finite differences)");
  const std::size_t n = opt.seq_len, d = opt.d_model;
  const RnnWeights w = random_rnn(rng, d, d);
  const Matrix h0 = xt::zeros<double>({std::size_t{1}, d});
  const double a = 1.0 / std::sqrt(static_cast<double>(d));
  const Matrix w_q = a * rng.normal_matrix(d, d), w_k = a * rng.normal_matrix(d, d),
               w_v = rng.normal_matrix(d, d);
  const Matrix x = rng.normal_matrix(n, d);
  Sensitivities s;
  s.rnn = sensitivity([&](const Matrix& in) { return rnn_forward(in, w, h0).output; }, x, 1e-6);
  s.attention =
      sensitivity([&](const Matrix& in) { return self_attention(in, w_q, w_k, w_v).output; }, x, 1e-6);
  fmt::print(
      "s[t] = |d output_t / d x_0| along (1, ..., 1)/sqrt(d), by central differences, eps = 1e-6.\n\n");
  fmt::print("{:>4} {:>16} {:>16}\n", "t", "RNN", "self-attention");
  for (std::size_t t = 0; t < n; t = t == 0 ? 1 : 2 * t)
    fmt::print("{:>4} {:>16.3e} {:>16.3e}\n", t, s.rnn(t), s.attention(t));
  fmt::print("{:>4} {:>16.3e} {:>16.3e}\n", n - 1, s.rnn(n - 1), s.attention(n - 1));
  fmt::print(
      "\nThrough the RNN, input 0 reaches output t only through t multiplications by W_hh and tanh'\n"
      "(< 1): its influence fades geometrically. In attention, output t reads x_0 directly with a\n"
      "weight of about 1/n: distance does not matter.\n");
  if (!opt.common.svg_dir.empty()) {
    std::vector<double> ts, r, at;
    for (std::size_t t = 0; t < n; ++t) {
      ts.push_back(static_cast<double>(t));
      r.push_back(std::max(s.rnn(t), 1e-17));
      at.push_back(std::max(s.attention(t), 1e-17));
    }
    PlotSpec spec;
    spec.title = fmt::format("How much output t depends on input 0 (n = {}, d = {})", n, d);
    spec.x_label = "t";
    spec.y_label = "|d output_t / d x_0|";
    spec.log10_y = true;
    write_line_plot_svg(opt.common.svg_dir, "10-sensitivity.svg", ts, {{"RNN", r}, {"self-attention", at}},
                        spec);
  }
  return s;
}

// --load DIR: torch.nn.RNN on PyTorch's files.
int run_loaded(const Options& opt) {
  const RnnFiles f = load_rnn(opt.common.load_dir);
  const RnnResult r = rnn_forward(f.input, f.weights, f.h0);
  print_title("Chapter 10 · torch.nn.RNN on " + opt.common.load_dir);
  print_matrix("output (L, H)", r.output);
  print_matrix("h_n (1, H)", r.h_n);
  if (!opt.common.save_dir.empty()) {
    save_npy(opt.common.save_dir, "output", r.output);
    save_npy(opt.common.save_dir, "h_n", r.h_n);
    fmt::print("wrote output.npy {} and h_n.npy {} to {}\n", shape_of(r.output), shape_of(r.h_n),
               opt.common.save_dir);
  }
  return 0;
}

int run(const Options& opt) {
  if (!opt.common.load_dir.empty()) return run_loaded(opt);
  if (opt.kernel % 2 == 0)
    throw usage_error(fmt::format("--kernel {} must be odd (a centred kernel)", opt.kernel));
  // the sensitivity runs two layers of (n, n) attention; the table counts loops of n^2 d
  require_memory(8.0 * 8.0 * opt.seq_len * opt.seq_len + 8.0 * 8.0 * opt.d_model * opt.d_model,
                 fmt::format("--seq-len {} --d-model {}", opt.seq_len, opt.d_model));
  print_title("Chapter 10 · Attention vs RNN");
  print_config("sizes", fmt::format("n = {} (--seq-len), d = {} (--d-model), kernel k = {} (--kernel)",
                                    opt.seq_len, opt.d_model, opt.kernel));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  show_rnn(rng);
  const bool table_ok = show_table(opt);
  const Sensitivities s = show_sensitivity(opt, rng);

  print_section("Self-checks");
  SelfChecks checks;
  checks.expect("counts match 2n²d, 2nd², knd² and 1, n, 1 sequential operations", table_ok);
  const std::size_t n = opt.seq_len;
  checks.expect("the RNN's dependence on x_0 fades", n < 8 || s.rnn(n - 1) < 1e-3 * s.rnn(1),
                fmt::format("{:.1e} at t = {} against {:.1e} at t = 1", s.rnn(n - 1), n - 1, s.rnn(1)));
  checks.expect(
      "attention's does not", s.attention(n - 1) > 0.1 * s.attention(1),
      fmt::format("{:.1e} at t = {} against {:.1e} at t = 1", s.attention(n - 1), n - 1, s.attention(1)));
  if (!opt.common.svg_dir.empty()) fmt::print("wrote 10-sensitivity.svg to {}\n", opt.common.svg_dir);
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 10: attention vs RNN: Table 1 measured, and fading memory", "ch10_attention_vs_rnn"};
  Options opt;
  add_size_option(app, "--seq-len", opt.seq_len, "Positions n", 100000);
  add_size_option(app, "--d-model", opt.d_model, "Width d of every position", 10000);
  add_size_option(app, "--kernel", opt.kernel, "Kernel width k of the convolution column (odd)", 1001);
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

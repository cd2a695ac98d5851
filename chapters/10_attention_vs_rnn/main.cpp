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
#include "pytorch.hpp"
#include "rng.hpp"
#include "svg.hpp"

#include <functional>
#include <limits>
#include <stdexcept>
#include <utility>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int seq_len = 32;  // n
  int d_model = 8;   // d
  int kernel = 3;    // k, for the convolution column
};

// ||W||_2, the largest singular value (how much W can stretch a vector), by power iteration on W^T W.
double spectral_norm(const Matrix& w) {
  const std::size_t rows = w.shape(0), cols = w.shape(1);
  std::vector<double> v(cols, 1.0 / std::sqrt(static_cast<double>(cols))), u(rows);
  double sigma = 0.0;
  for (int it = 0; it < 10000; ++it) {
    double uu = 0.0, vv = 0.0;
    for (std::size_t i = 0; i < rows; ++i) {  // u = W v
      u[i] = 0.0;
      for (std::size_t j = 0; j < cols; ++j) u[i] += w(i, j) * v[j];
      uu += u[i] * u[i];
    }
    std::vector<double> next(cols, 0.0);  // v = W^T u / |W^T u|
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) next[j] += w(i, j) * u[i];
    for (double x : next) vv += x * x;
    if (vv == 0.0) return 0.0;
    for (std::size_t j = 0; j < cols; ++j) v[j] = next[j] / std::sqrt(vv);
    const double previous = sigma;
    sigma = std::sqrt(uu);  // |W v| for the unit vector v of this round
    if (it > 10 && std::abs(sigma - previous) <= 1e-15 * sigma) break;
  }
  return sigma;
}

// RNN weights drawn like torch.nn.RNN (uniform in +-1/sqrt(H)), then W_hh scaled to ||W_hh||_2 = 0.9:
// a stable RNN, in which no step can stretch the state's dependence on the past.
RnnWeights random_rnn(Rng& rng, std::size_t d_in, std::size_t H) {
  const double a = 1.0 / std::sqrt(static_cast<double>(H));
  RnnWeights w{rng.uniform_matrix(H, d_in, -a, a), rng.uniform_matrix(H, H, -a, a),
               Vector(xt::view(rng.uniform_matrix(1, H, -a, a), 0)),
               Vector(xt::view(rng.uniform_matrix(1, H, -a, a), 0))};
  w.weight_hh_l0 *= 0.9 / spectral_norm(w.weight_hh_l0);
  return w;
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
// The three layers are written below with the loops of the real computation, but on *traced* numbers:
// instead of a value, each number records
//   depth: the longest chain of operations that produced it (inputs have depth 0);
//   hops:  the fewest position-to-position steps from input position 0 (kUnreached if none).
// One operation is one weighted sum (a dot product) followed by an elementwise function (tanh, exp,
// divide); it can start as soon as everything it reads is ready, so all operations of the same depth
// could run at once. The tracer counts the multiply-adds of every operation it performs.
constexpr int kUnreached = std::numeric_limits<int>::max();

struct Traced {
  int depth = 0;
  int hops = kUnreached;
};
using Row = std::vector<Traced>;  // the d numbers of one position (or one column of n numbers)
using Seq = std::vector<Row>;     // n positions

struct Tracer {
  double macs = 0;
  // One operation reading every number of the given rows, with `cost` multiply-adds.
  Traced op(const std::vector<const Row*>& reads, double cost) {
    macs += cost;
    Traced out;
    for (const Row* row : reads) {
      for (const Traced& v : *row) {
        out.depth = std::max(out.depth, v.depth);
        out.hops = std::min(out.hops, v.hops);
      }
    }
    out.depth += 1;
    return out;
  }
};

// The value a layer writes for a position: information that arrives there has taken one more step.
Traced arrive(Traced v) {
  if (v.hops != kUnreached) v.hops += 1;
  return v;
}

// The layer's input: n positions of width d; only position 0 carries the signal we follow.
Seq traced_input(std::size_t n, std::size_t d) {
  Seq x(n, Row(d));
  for (Traced& v : x[0]) v.hops = 0;
  return x;
}

// Self-attention with Q = K = V = X (Table 1 counts the attention itself, not the projections):
//   s_ij = x_i · x_j (d multiply-adds), p_i = softmax(s_i) (one operation on the row),
//   y_ic = sum_j p_ij x_jc (n multiply-adds).
Seq attention_traced(const Seq& x, Tracer& tr) {
  const std::size_t n = x.size(), d = x[0].size();
  Seq columns(d, Row(n));  // column c of X: what output feature c sums over
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t c = 0; c < d; ++c) columns[c][j] = x[j][c];
  Seq y(n, Row(d));
  for (std::size_t i = 0; i < n; ++i) {
    Row scores(n);
    for (std::size_t j = 0; j < n; ++j) scores[j] = tr.op({&x[i], &x[j]}, static_cast<double>(d));
    // every p_ij reads the whole row of scores (through the normalising sum): one operation, the
    // same result for every j, so it is traced once
    const Row p(n, tr.op({&scores}, 0.0));
    for (std::size_t c = 0; c < d; ++c) y[i][c] = arrive(tr.op({&p, &columns[c]}, static_cast<double>(n)));
  }
  return y;
}

// The RNN: h_t = tanh(W_ih x_t + W_hh h_(t-1) + b), unit by unit (2d multiply-adds per unit).
Seq rnn_traced(const Seq& x, Tracer& tr) {
  const std::size_t n = x.size(), d = x[0].size();
  Seq h(n, Row(d));
  const Row h0(d);  // the initial state: ready at depth 0, carries nothing from x_0
  for (std::size_t t = 0; t < n; ++t) {
    const Row& previous = t == 0 ? h0 : h[t - 1];
    for (std::size_t i = 0; i < d; ++i) h[t][i] = arrive(tr.op({&x[t], &previous}, 2.0 * d));
  }
  return h;
}

// A causal convolution of width k and dilation D, d channels in and out (it reads the present and the
// past, as the RNN does; WaveNet's layers):
//   y_tc = sum_j sum_c' W_jcc' x_(t - j D) c',   j = 0 .. k-1     (k d multiply-adds per output; the
// zeros of the padding before position 0 are multiplied too, as the plain loop does, but carry nothing)
Seq conv_traced(const Seq& x, std::size_t k, std::size_t dilation, Tracer& tr) {
  const std::size_t n = x.size(), d = x[0].size();
  Seq y(n, Row(d));
  for (std::size_t t = 0; t < n; ++t) {
    std::vector<const Row*> window;  // the positions output t reads
    for (std::size_t j = 0; j < k && j * dilation <= t; ++j) window.push_back(&x[t - j * dilation]);
    for (std::size_t c = 0; c < d; ++c) y[t][c] = arrive(tr.op(window, static_cast<double>(k * d)));
  }
  return y;
}

// The deepest value of a layer's output: its sequential operations.
int deepest(const Seq& y) {
  int depth = 0;
  for (const Row& row : y)
    for (const Traced& v : row) depth = std::max(depth, v.depth);
  return depth;
}

// The farthest output from input 0, in steps; kUnreached if some output does not depend on x_0 yet.
int farthest(const Seq& y) {
  int hops = 0;
  for (const Row& row : y) hops = std::max(hops, row[0].hops);
  return hops;
}

// Maximum path length: stack layers (width 1: which positions a layer connects does not depend on d)
// until every output depends on x_0, then read the longest of those shortest paths.
int path_length(std::size_t n, const std::function<Seq(const Seq&, std::size_t layer)>& layer) {
  Seq x = traced_input(n, 1);
  for (std::size_t l = 0; l <= n; ++l) {
    x = layer(x, l);
    if (farthest(x) != kUnreached) return farthest(x);
  }
  throw std::logic_error("path_length: the stacked layers never connect the positions");
}

struct Measured {
  double macs = 0;
  int sequential = 0;
  std::string path;
};

// One layer of each kind on (n, d): multiply-adds, sequential operations, maximum path length.
std::vector<Measured> measure_layers(std::size_t n, std::size_t d, std::size_t k) {
  Tracer ta, tr, tc, unused;
  const Seq x = traced_input(n, d);
  const int att_seq = deepest(attention_traced(x, ta)), rnn_seq = deepest(rnn_traced(x, tr)),
            conv_seq = deepest(conv_traced(x, k, 1, tc));
  const int att_path = path_length(n, [&](const Seq& s, std::size_t) { return attention_traced(s, unused); });
  const int rnn_path = path_length(n, [&](const Seq& s, std::size_t) { return rnn_traced(s, unused); });
  const int conv_path =
      path_length(n, [&](const Seq& s, std::size_t) { return conv_traced(s, k, 1, unused); });
  const int dilated_path = path_length(n, [&](const Seq& s, std::size_t l) {
    // dilations 1, k, k², ... while they fit in the sequence, then again from 1 (as WaveNet does)
    std::size_t dilation = 1;
    for (std::size_t i = 0; i < l; ++i) dilation = dilation * k < n ? dilation * k : 1;
    return conv_traced(s, k, dilation, unused);
  });
  return {{ta.macs, att_seq, std::to_string(att_path)},
          {tr.macs, rnn_seq, std::to_string(rnn_path)},
          {tc.macs, conv_seq, fmt::format("{} (dilated: {})", conv_path, dilated_path)}};
}

// The work of show_table, counted as the tracer runs it, in multiply-adds: every traced number an
// operation reads costs about 1.5, every operation 100 more (the list of rows it reads), calibrated
// against the program's own time at n = 1000 and at d = 2400.
double table_work(std::size_t n, std::size_t d, std::size_t k) {
  double work = 0;
  for (const auto& [m, w] : {std::pair{n, d}, std::pair{2 * n, d}, std::pair{n, 8 * d}}) {
    const double N = static_cast<double>(m), D = static_cast<double>(w), K = static_cast<double>(k);
    // one layer of each: attention (N² scores reading 2D, N softmaxes reading N, N D outputs reading
    // 2N), the RNN (N D units reading 2D), the convolution (N D outputs reading K D)
    double reads = 4 * N * N * D + N * N + 2 * N * D * D + K * N * D * D;
    double ops = N * N + N + 3 * N * D;
    // path_length's stacks of width 1: one attention layer, one RNN layer, (N - 1) / (K - 1)
    // convolution layers of N outputs reading K, and as many dilated ones at most
    const double conv_layers = std::ceil((N - 1) / (K - 1));
    reads += 5 * N * N + 2 * N + 2 * conv_layers * K * N;
    ops += N * N + 3 * N + 2 * conv_layers * N;
    work += 1.5 * reads + 100 * ops;
  }
  return work;
}

// What a run needs, estimated from its sizes before it starts. Alive at the peak: a few (n, n) and
// (d, d) matrices and the tracer's values (3 copies of (2n, d) and (n, 8d)). The work: Table 1
// (table_work); spectral_norm, at most 10000 rounds of 2 d² on the two RNNs; and section 3: three RNN
// runs (2 n d² and n d tanh each) and three self-attentions (3 n d² + 2 n² d, n² exponentials), with
// their weights and inputs drawn.
Cost cost_of(const Options& opt) {
  const double n = opt.seq_len, d = opt.d_model;
  const double bytes = 8.0 * (8.0 * n * n + 8.0 * d * d + 24.0 * n * d);
  const double section3 = 3.0 * (2.0 * n * d * d + n * d * math_call) +
                          3.0 * (3.0 * n * d * d + 2.0 * n * n * d + n * n * math_call) +
                          (2.0 * d * d + 2.0 * d) * uniform_draw + (3.0 * d * d + n * d) * normal_draw;
  return {bytes, table_work(opt.seq_len, opt.d_model, opt.kernel) + 2.0 * 10000 * 2.0 * d * d + section3};
}

bool show_table(const Options& opt) {
  print_section("2. Vaswani et al. (2017), Table 1 — measured, not quoted");
  fmt::print(
      "Each layer runs its loops on traced numbers (see main.cpp): multiply-adds counted, sequential\n"
      "operations = the longest chain of dependent operations, max path length = the most steps\n"
      "from input 0 to an output, stacking layers until every output depends on input 0.\n\n");
  const std::size_t n = opt.seq_len, d = opt.d_model, k = opt.kernel;
  fmt::print("{:>5} {:>5}  {:<15} {:>13} {:>8}  {:>10}  {:>16}\n", "n", "d", "layer", "multiply-adds",
             "formula", "sequential", "max path length");
  bool ok = true;
  std::vector<std::vector<Measured>> all;
  for (const auto& [m, w] : {std::pair{n, d}, std::pair{2 * n, d}, std::pair{n, 8 * d}}) {
    const std::vector<Measured> r = measure_layers(m, w, k);
    const char* names[] = {"self-attention", "recurrent", "convolution"};
    const char* formulas[] = {"2 n² d", "2 n d²", "k n d²"};
    const double expected[] = {2.0 * m * m * w, 2.0 * m * w * w, 1.0 * k * m * w * w};
    for (std::size_t i = 0; i < 3; ++i) {
      fmt::print("{:>5} {:>5}  {:<15} {:>13.0f} {:>8}  {:>10}  {:>16}\n", i == 0 ? std::to_string(m) : "",
                 i == 0 ? std::to_string(w) : "", names[i], r[i].macs, formulas[i], r[i].sequential,
                 r[i].path);
      ok = ok && r[i].macs == expected[i];
    }
    ok = ok && r[1].sequential == static_cast<int>(m) && r[1].path == std::to_string(m) && r[0].path == "1";
    all.push_back(r);
  }
  // what the three measurements say, in numbers taken from them
  const auto ratio = [&](int config, int layer) { return all[config][layer].macs / all[0][layer].macs; };
  fmt::print(
      "\nDoubling n multiplied the multiply-adds of attention by {:.0f}, of the RNN by {:.0f}, of the\n"
      "convolution by {:.0f}. Attention's sequential operations stayed {} (scores, softmax, weighted sum)\n"
      "while the RNN's went from {} to {}. Per layer attention did {:.2g} times the RNN's multiply-adds\n"
      "at n = {}, d = {}, and {:.2g} times at n = {}, d = {}: it is the cheaper one while n < d.\n"
      "The paper's Table 1 in O-notation: O(n² d), O(n d²), O(k n d²) per layer; O(1), O(n), O(1)\n"
      "sequential operations; O(1), O(n), O(log_k n) maximum path length.\n",
      ratio(1, 0), ratio(1, 1), ratio(1, 2), all[0][0].sequential, all[0][1].sequential, all[1][1].sequential,
      all[0][0].macs / all[0][1].macs, n, d, all[2][0].macs / all[2][1].macs, n, 8 * d);
  ok = ok && all[0][0].sequential == all[1][0].sequential && all[0][2].sequential == all[1][2].sequential;
  return ok;
}

// 3. How much output t depends on input 0.
struct Sensitivities {
  Vector rnn, attention;
  double w_hh_norm = 0;  // ||W_hh||_2 of the RNN
  double max_step = 0;   // the largest s[t+1] / s[t] of the RNN, t >= 1, above the rounding floor
  std::size_t last = 1;  // the steps t = 1 .. last - 1 (s[t+1] against s[t]) are the ones checked
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
  const double eps = 1e-4;  // error ~eps² of s (the method); rounding floor ~1e-16 / eps (the doubles)
  s.rnn = sensitivity([&](const Matrix& in) { return rnn_forward(in, w, h0).output; }, x, eps);
  s.attention =
      sensitivity([&](const Matrix& in) { return self_attention(in, w_q, w_k, w_v).output; }, x, eps);
  fmt::print(
      "s[t] = |d output_t / d x_0| along (1, ..., 1)/sqrt(d), by central differences, eps = {:.0e}.\n\n",
      eps);
  fmt::print("{:>4} {:>16} {:>16}\n", "t", "RNN", "self-attention");
  for (std::size_t t = 0; t < n; t = t == 0 ? 1 : 2 * t)
    fmt::print("{:>4} {:>16.3e} {:>16.3e}\n", t, s.rnn(t), s.attention(t));
  if ((n - 1) & (n - 2)) fmt::print("{:>4} {:>16.3e} {:>16.3e}\n", n - 1, s.rnn(n - 1), s.attention(n - 1));
  // why: the RNN's per-step factor and the slope of its tanh; attention's weights on x_0
  const Matrix states = rnn_forward(x, w, h0).output;
  const double slope = xt::mean(1.0 - states * states)();  // tanh'(a) = 1 - tanh(a)²
  const Matrix weights = self_attention(x, w_q, w_k, w_v).weights;
  double w_min = 1.0, w_max = 0.0;
  for (std::size_t t = 0; t < n; ++t) {
    w_min = std::min(w_min, weights(t, 0));
    w_max = std::max(w_max, weights(t, 0));
  }
  // by the chain rule, d h_(t+1) / d x_0 = diag(1 - h_(t+1)²) W_hh d h_t / d x_0 for t >= 1, so
  // s[t+1] <= ||W_hh||_2 s[t]. With eps = 1e-4, rounding blurs s below about 1e-12: the step
  // factors are taken only while s stays above 1e-7.
  s.w_hh_norm = spectral_norm(w.weight_hh_l0);
  std::size_t& last = s.last;
  while (last + 1 < n && s.rnn(last + 1) > 1e-7) ++last;
  for (std::size_t t = 1; t < last; ++t) s.max_step = std::max(s.max_step, s.rnn(t + 1) / s.rnn(t));
  const double factor = std::pow(s.rnn(last) / s.rnn(1), 1.0 / static_cast<double>(last - 1));
  fmt::print(
      "\nRNN: ||W_hh||_2 = {:.3f} and tanh' = 1 - h² <= 1 ({:.3f} on average over these states), so\n"
      "by the chain rule no step can multiply s by more than {:.3f}. Measured from t = 1 to {}: {:.3f}\n"
      "per step on average, {:.3f} at most. The influence of x_0 fades geometrically.\n",
      s.w_hh_norm, slope, s.w_hh_norm, last, factor, s.max_step);
  double s_min = s.attention(n - 1), s_max = s.attention(n - 1);
  for (std::size_t t = 1; t < n; ++t) {
    s_min = std::min(s_min, s.attention(t));
    s_max = std::max(s_max, s.attention(t));
  }
  fmt::print(
      "Attention: output t reads x_0 directly, with a weight between {:.3f} and {:.3f} for every t\n"
      "(1/n = {:.3f}); s[t] stayed between {:.2e} and {:.2e} for t = 1 .. {}: distance does not matter.\n",
      w_min, w_max, 1.0 / static_cast<double>(n), s_min, s_max, n - 1);
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
  require_finite_result("output", r.output);  // an overflow is bad input, never a printed NaN
  require_finite_result("h_n", r.h_n);
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
  require_within_limits(cost_of(opt), fmt::format("--seq-len {} --d-model {} --kernel {}", opt.seq_len,
                                                  opt.d_model, opt.kernel));
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
  checks.expect("traced counts are 2n²d, 2nd², knd²; sequential ops constant, n, constant; paths 1, n",
                table_ok);
  const std::size_t n = opt.seq_len;
  checks.expect(fmt::format("RNN: s[t+1] <= ||W_hh||_2 s[t] (the chain rule's bound) for t = 1 .. {}, while "
                            "s > 1e-7",
                            s.last - 1),
                s.max_step <= s.w_hh_norm * (1 + 1e-4),  // room for the finite differences
                fmt::format("largest step {:.3f}, ||W_hh||_2 = {:.3f}", s.max_step, s.w_hh_norm));
  if (n >= 32) {
    // attention: mean sensitivity over the first and the last quarter of t = 1 .. n-1 (averages:
    // single positions vary with their content)
    const auto quarter = [&](const Vector& v, bool late) {
      const std::size_t q = (n - 1) / 4, from = late ? n - q : 1;
      return xt::mean(xt::view(v, xt::range(from, from + q)))();
    };
    const double att_late = quarter(s.attention, true), att_early = quarter(s.attention, false);
    checks.expect("the RNN's dependence on x_0 fades: s[n-1] < 10% of s[1]", s.rnn(n - 1) < 0.1 * s.rnn(1),
                  fmt::format("{:.1e} against {:.1e}", s.rnn(n - 1), s.rnn(1)));
    checks.expect("attention's does not: last quarter of s > 10% of first quarter",
                  att_late > 0.1 * att_early,
                  fmt::format("means {:.1e} against {:.1e}", att_late, att_early));
  } else {
    fmt::print("fading checks: skipped (they need --seq-len 32 or more)\n");
  }
  if (!opt.common.svg_dir.empty()) fmt::print("wrote 10-sensitivity.svg to {}\n", opt.common.svg_dir);
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 10: attention vs RNN: Table 1 measured, and fading memory", "ch10_attention_vs_rnn"};
  Options opt;
  add_size_option(app, "--seq-len", opt.seq_len, "Positions n", 3,
                  largest_within_limits(&Options::seq_len, cost_of, 3),
                  "at least 3: section 3 compares outputs 1 .. n-1");
  add_size_option(app, "--d-model", opt.d_model, "Width d of every position",
                  largest_within_limits(&Options::d_model, cost_of));
  add_size_option(app, "--kernel", opt.kernel, "Kernel width k of the (causal) convolution", 2,
                  largest_within_limits(&Options::kernel, cost_of, 2),
                  "at least 2: a convolution of width 1 never connects two positions");
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

// Chapter 10 — attention vs RNN: an Elman RNN with torch.nn.RNN's semantics; Vaswani et al.'s
// Table 1 (cost per layer, sequential operations, maximum path length) measured by counting; how
// strongly output t depends on input 0, by finite differences. The timing comparison is a separate
// benchmark: build/bin/bench_10_layers.
//
//   build/bin/ch10_attention_vs_rnn [--seq-len N] [--d-model D] [--kernel K] [--seed S] [--svg DIR]
//   build/bin/ch10_attention_vs_rnn --load DIR --save DIR      (torch.nn.RNN, tanh, one layer)
//
// Each section computes into a named result (compute_...), then prints and draws from it (show_...);
// self_checks() checks the results; run() calls them in order.
#include "03_self_attention/contract.hpp"
#include "10_attention_vs_rnn/given.hpp"  // load_rnn
#include "cli.hpp"
#include "figures.hpp"
#include "print.hpp"
#include "pytorch.hpp"
#include "results.hpp"
#include "rng.hpp"

#include <functional>
#include <limits>
#include <stdexcept>

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
//   d_in, H  ->  weight_ih (H, d_in), weight_hh (H, H), bias_ih (H), bias_hh (H), drawn in that order
RnnWeights random_rnn(Rng& rng, std::size_t d_in, std::size_t H) {
  const double a = 1.0 / std::sqrt(static_cast<double>(H));
  RnnWeights w;
  w.weight_ih_l0 = rng.uniform_matrix(H, d_in, -a, a);
  w.weight_hh_l0 = rng.uniform_matrix(H, H, -a, a);
  w.bias_ih_l0 = Vector::from_shape({H});
  for (double& b : w.bias_ih_l0) b = rng.uniform(-a, a);
  w.bias_hh_l0 = Vector::from_shape({H});
  for (double& b : w.bias_hh_l0) b = rng.uniform(-a, a);
  w.weight_hh_l0 *= 0.9 / spectral_norm(w.weight_hh_l0);
  return w;
}

// --- 1. The RNN: one step after the other -------------------------------------------------------------

struct RnnExample {
  Matrix x;       // (L, H_in) = (5, 3), the input
  RnnResult rnn;  // output (L, H) = (5, 4): h_1 .. h_L;  h_n (1, H)
};

// h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), t = 1 .. L, from h_0 = 0.
RnnExample compute_rnn_example(Rng& rng) {
  const std::size_t L = 5, H_in = 3, H = 4;
  const RnnWeights w = random_rnn(rng, H_in, H);
  RnnExample e;
  e.x = rng.normal_matrix(L, H_in);
  e.rnn = rnn_forward(e.x, w, xt::zeros<double>({std::size_t{1}, H}));
  return e;
}

void show_rnn_example(const RnnExample& e) {
  print_section("1. An Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)");
  print_matrix("input x (L, H_in)", e.x, {"x1", "x2", "x3", "x4", "x5"}, {}, 3);
  print_matrix("output (L, H): h_1 .. h_L", e.rnn.output, {"h1", "h2", "h3", "h4", "h5"}, {}, 3);
  print_matrix("h_n (1, H): the last state", e.rnn.h_n, {"h_n"}, {}, 3);
  fmt::print(
      "h_t needs h_(t-1): the {} steps run one after the other, whatever the hardware. Everything the\n"
      "RNN knows about x_1 when it reaches step t has passed through t - 1 tanh layers.\n",
      e.x.shape(0));
}

// --- 2. Table 1, measured ------------------------------------------------------------------------------
// The three layers are written below with the loops of the real computation, but on *traced* numbers:
// instead of a value, each number records
//   depth: the longest chain of operations that produced it (inputs have depth 0);
//   hops:  the fewest position-to-position steps from input position 0 (kUnreached if none).
// One operation is one weighted sum (a dot product) followed by an elementwise function (tanh, exp,
// divide); it can start as soon as everything it reads is ready, so all operations of the same depth
// could run at once. Each layer counts the multiply-adds of the operations it performs.
constexpr int kUnreached = std::numeric_limits<int>::max();

struct Traced {
  int depth = 0;
  int hops = kUnreached;
};
using Row = std::vector<Traced>;  // the d numbers of one position (or one column of n numbers)
using Seq = std::vector<Row>;     // n positions

// A layer run on traced numbers: what it wrote, and how many multiply-adds it did.
struct TracedLayer {
  Seq output;
  double multiply_adds = 0;
};

// One operation reading every number of the given rows: one step deeper than the deepest of them,
// and as close to input 0 as the closest of them.
Traced operation(const std::vector<const Row*>& reads) {
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
//   y_ic = sum_j p_ij x_jc (n multiply-adds).       x (n, d)  ->  y (n, d)
TracedLayer attention_traced(const Seq& x) {
  const std::size_t n = x.size(), d = x[0].size();
  Seq columns(d, Row(n));  // column c of X: what output feature c sums over
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t c = 0; c < d; ++c) columns[c][j] = x[j][c];
  TracedLayer layer;
  layer.output = Seq(n, Row(d));
  for (std::size_t i = 0; i < n; ++i) {
    Row scores(n);
    for (std::size_t j = 0; j < n; ++j) {
      scores[j] = operation({&x[i], &x[j]});
      layer.multiply_adds += d;
    }
    // every p_ij reads the whole row of scores (through the normalising sum): one operation, the
    // same result for every j, so it is traced once
    const Row p(n, operation({&scores}));
    for (std::size_t c = 0; c < d; ++c) {
      layer.output[i][c] = arrive(operation({&p, &columns[c]}));
      layer.multiply_adds += n;
    }
  }
  return layer;
}

// The RNN: h_t = tanh(W_ih x_t + W_hh h_(t-1) + b), unit by unit (2d multiply-adds per unit).
//   x (n, d)  ->  h (n, d)
TracedLayer rnn_traced(const Seq& x) {
  const std::size_t n = x.size(), d = x[0].size();
  TracedLayer layer;
  layer.output = Seq(n, Row(d));
  const Row h0(d);  // the initial state: ready at depth 0, carries nothing from x_0
  for (std::size_t t = 0; t < n; ++t) {
    const Row& previous = t == 0 ? h0 : layer.output[t - 1];
    for (std::size_t i = 0; i < d; ++i) {
      layer.output[t][i] = arrive(operation({&x[t], &previous}));
      layer.multiply_adds += 2.0 * d;
    }
  }
  return layer;
}

// A causal convolution of width k and dilation D, d channels in and out (it reads the present and the
// past, as the RNN does; WaveNet's layers):
//   y_tc = sum_j sum_c' W_jcc' x_(t - j D) c',   j = 0 .. k-1     (k d multiply-adds per output; the
// zeros of the padding before position 0 are multiplied too, as the plain loop does, but carry nothing)
//   x (n, d)  ->  y (n, d)
TracedLayer conv_traced(const Seq& x, std::size_t k, std::size_t dilation) {
  const std::size_t n = x.size(), d = x[0].size();
  TracedLayer layer;
  layer.output = Seq(n, Row(d));
  for (std::size_t t = 0; t < n; ++t) {
    std::vector<const Row*> window;  // the positions output t reads: t, t - D, t - 2D, ... (not below 0)
    for (std::size_t j = 0; j < k && j * dilation <= t; ++j) window.push_back(&x[t - j * dilation]);
    for (std::size_t c = 0; c < d; ++c) {
      layer.output[t][c] = arrive(operation(window));
      layer.multiply_adds += static_cast<double>(k * d);
    }
  }
  return layer;
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
// until every output depends on x_0, then read the longest of those shortest paths. layer(x, l) is
// layer l of the stack (l = 0, 1, ...) applied to x.
int path_length(std::size_t n, const std::function<Seq(const Seq& x, std::size_t l)>& layer) {
  Seq x = traced_input(n, 1);
  for (std::size_t l = 0; l <= n; ++l) {
    x = layer(x, l);
    if (farthest(x) != kUnreached) return farthest(x);
  }
  throw std::logic_error("path_length: the stacked layers never connect the positions");
}

// The dilation of layer l in a WaveNet stack: 1, k, k², ... while it fits in the sequence (below n),
// then again from 1.
std::size_t wavenet_dilation(std::size_t l, std::size_t k, std::size_t n) {
  std::size_t dilation = 1;
  for (std::size_t i = 0; i < l; ++i) {
    if (dilation * k < n) {
      dilation = dilation * k;
    } else {
      dilation = 1;
    }
  }
  return dilation;
}

// One layer's three columns of Table 1.
struct LayerCounts {
  double multiply_adds = 0;
  int sequential = 0;   // sequential operations: the longest chain of dependent operations
  int path_length = 0;  // maximum path length, in layers' steps
};

// Table 1's rows for one size.
struct Table1Sizes {
  std::size_t n = 0, d = 0;
  LayerCounts attention, recurrent, convolution;
  int dilated_path_length = 0;  // the convolution with dilations 1, k, k², ... (wavenet_dilation)
};

// One layer of each kind on (n, d) traced numbers, and stacks of each for the path lengths.
Table1Sizes measure_layers(std::size_t n, std::size_t d, std::size_t k) {
  const Seq x = traced_input(n, d);
  const TracedLayer attention = attention_traced(x), recurrent = rnn_traced(x),
                    convolution = conv_traced(x, k, 1);
  Table1Sizes s;
  s.n = n;
  s.d = d;
  s.attention = {attention.multiply_adds, deepest(attention.output),
                 path_length(n, [](const Seq& in, std::size_t) { return attention_traced(in).output; })};
  s.recurrent = {recurrent.multiply_adds, deepest(recurrent.output),
                 path_length(n, [](const Seq& in, std::size_t) { return rnn_traced(in).output; })};
  s.convolution = {convolution.multiply_adds, deepest(convolution.output),
                   path_length(n, [k](const Seq& in, std::size_t) { return conv_traced(in, k, 1).output; })};
  s.dilated_path_length = path_length(n, [k, n](const Seq& in, std::size_t l) {
    return conv_traced(in, k, wavenet_dilation(l, k, n)).output;
  });
  return s;
}

struct Table1 {
  std::size_t k = 0;   // the convolution's width
  Table1Sizes base;    // (n, d)
  Table1Sizes longer;  // (2n, d): what doubling n does
  Table1Sizes wider;   // (n, 8d): where the RNN costs more than attention
};

Table1 compute_table1(const Options& opt) {
  const std::size_t n = opt.seq_len, d = opt.d_model, k = opt.kernel;
  return {k, measure_layers(n, d, k), measure_layers(2 * n, d, k), measure_layers(n, 8 * d, k)};
}

// The work of measure_layers(N, D, K) in multiply-adds (cli.hpp's unit), counted from its loops. Each
// traced operation reads its rows number by number (about 1.5 multiply-adds per number read) and builds
// its list of rows (about 100 per operation); both rates were calibrated against the program's own time
// at n = 1000 (d = 8) and at d = 300 (n = 32).
//   one layer of each kind, width D:
//     attention  N² scores reading 2D numbers, N softmaxes reading N, N D outputs reading 2N
//                -> reads 4 N² D + N², operations N² + N + N D
//     RNN        N D units reading 2D (x_t and h_(t-1))  -> reads 2 N D², operations N D
//     conv       N D outputs reading at most K D          -> reads K N D², operations N D
//   path_length's stacks, width 1:
//     attention  one layer: reads 4 N² + N², operations N² + 2N
//     RNN        one layer: reads 2N, operations N
//     conv       at most ceil((N - 1) / (K - 1)) layers (each reaches K - 1 positions further) of N
//                outputs reading K, and as many dilated ones at most -> reads 2 layers K N, operations
//                2 layers N
double measure_layers_work(double N, double D, double K) {
  double reads = (4 * N * N * D + N * N) + 2 * N * D * D + K * N * D * D;
  double ops = (N * N + N + N * D) + N * D + N * D;
  const double conv_layers = std::ceil((N - 1) / (K - 1));
  reads += 5 * N * N + 2 * N + 2 * conv_layers * K * N;
  ops += (N * N + 2 * N) + N + 2 * conv_layers * N;
  return 1.5 * reads + 100 * ops;
}

// The work of compute_table1: measure_layers at (n, d), (2n, d) and (n, 8d).
double table_work(std::size_t n, std::size_t d, std::size_t k) {
  const double N = static_cast<double>(n), D = static_cast<double>(d), K = static_cast<double>(k);
  return measure_layers_work(N, D, K) + measure_layers_work(2 * N, D, K) + measure_layers_work(N, 8 * D, K);
}

// Table 1's rows for one size, one line per layer.
void print_table1_rows(const Table1Sizes& s) {
  const std::string path = fmt::format("{} (dilated: {})", s.convolution.path_length, s.dilated_path_length);
  fmt::print("{:>5} {:>5}  {:<15} {:>13.0f} {:>8}  {:>10}  {:>16}\n", s.n, s.d, "self-attention",
             s.attention.multiply_adds, "2 n² d", s.attention.sequential, s.attention.path_length);
  fmt::print("{:>5} {:>5}  {:<15} {:>13.0f} {:>8}  {:>10}  {:>16}\n", "", "", "recurrent",
             s.recurrent.multiply_adds, "2 n d²", s.recurrent.sequential, s.recurrent.path_length);
  fmt::print("{:>5} {:>5}  {:<15} {:>13.0f} {:>8}  {:>10}  {:>16}\n", "", "", "convolution",
             s.convolution.multiply_adds, "k n d²", s.convolution.sequential, path);
}

void show_table1(const Table1& t) {
  print_section("2. Vaswani et al. (2017), Table 1 — measured, not quoted");
  fmt::print(
      "Each layer runs its loops on traced numbers (see main.cpp): multiply-adds counted, sequential\n"
      "operations = the longest chain of dependent operations, max path length = the most steps\n"
      "from input 0 to an output, stacking layers until every output depends on input 0.\n\n");
  fmt::print("{:>5} {:>5}  {:<15} {:>13} {:>8}  {:>10}  {:>16}\n", "n", "d", "layer", "multiply-adds",
             "formula", "sequential", "max path length");
  print_table1_rows(t.base);
  print_table1_rows(t.longer);
  print_table1_rows(t.wider);
  // what the three measurements say, in numbers taken from them
  fmt::print(
      "\nDoubling n multiplied the multiply-adds of attention by {:.0f}, of the RNN by {:.0f}, of the\n"
      "convolution by {:.0f}. Attention's sequential operations stayed {} (scores, softmax, weighted sum)\n"
      "while the RNN's went from {} to {}. Per layer attention did {:.2g} times the RNN's multiply-adds\n"
      "at n = {}, d = {}, and {:.2g} times at n = {}, d = {}: it is the cheaper one while n < d.\n"
      "The paper's Table 1 in O-notation: O(n² d), O(n d²), O(k n d²) per layer; O(1), O(n), O(1)\n"
      "sequential operations; O(1), O(n), O(log_k n) maximum path length.\n",
      t.longer.attention.multiply_adds / t.base.attention.multiply_adds,
      t.longer.recurrent.multiply_adds / t.base.recurrent.multiply_adds,
      t.longer.convolution.multiply_adds / t.base.convolution.multiply_adds, t.base.attention.sequential,
      t.base.recurrent.sequential, t.longer.recurrent.sequential,
      t.base.attention.multiply_adds / t.base.recurrent.multiply_adds, t.base.n, t.base.d,
      t.wider.attention.multiply_adds / t.wider.recurrent.multiply_adds, t.wider.n, t.wider.d);
}

// Whether the traced counts follow Table 1: 2 n² d, 2 n d², k n d² multiply-adds; sequential operations
// constant (attention, convolution: the same at n and 2n) and n (RNN); path lengths 1 (attention) and
// n (RNN).
bool table1_as_the_paper_says(const Table1& t) {
  bool ok = true;
  for (const Table1Sizes* s : {&t.base, &t.longer, &t.wider}) {
    const double n = static_cast<double>(s->n), d = static_cast<double>(s->d), k = static_cast<double>(t.k);
    ok = ok && s->attention.multiply_adds == 2 * n * n * d;
    ok = ok && s->recurrent.multiply_adds == 2 * n * d * d;
    ok = ok && s->convolution.multiply_adds == k * n * d * d;
    ok = ok && s->recurrent.sequential == static_cast<int>(s->n) &&
         s->recurrent.path_length == static_cast<int>(s->n);
    ok = ok && s->attention.path_length == 1;
  }
  ok = ok && t.base.attention.sequential == t.longer.attention.sequential;
  ok = ok && t.base.convolution.sequential == t.longer.convolution.sequential;
  return ok;
}

// --- 3. How much output t depends on input 0 ---------------------------------------------------------

struct Sensitivity {
  std::size_t n = 0, d = 0;
  double eps = 1e-4;      // error ~eps² of s (the method); rounding floor ~1e-16 / eps (the doubles)
  Vector rnn, attention;  // s[t] = |d output_t / d x_0| along (1, ..., 1)/sqrt(d), t = 0 .. n-1
  // the RNN
  double w_hh_norm = 0;        // ||W_hh||_2
  double mean_tanh_slope = 0;  // tanh'(a) = 1 - h², averaged over all its states
  std::size_t last = 1;        // s[t] > 1e-7 for t = 1 .. last: the steps whose ratios are measured
  double max_step = 0;         // the largest s[t+1] / s[t], t = 1 .. last - 1
  double mean_step = 0;        // (s[last] / s[1])^(1 / (last - 1)), the geometric mean of those ratios
  // attention
  double weight_min = 1, weight_max = 0;        // the weight output t gives x_0, over t = 0 .. n-1
  double attention_min = 0, attention_max = 0;  // s[t] over t = 1 .. n-1
};

// An RNN (||W_hh||_2 = 0.9) and a self-attention layer (W_Q, W_K scaled by 1/sqrt(d)) on the same
// random x (n, d); s by chapter 10's sensitivity(). By the chain rule, for t >= 1
//   d h_(t+1) / d x_0 = diag(1 - h_(t+1)²) W_hh d h_t / d x_0,   so   s[t+1] <= ||W_hh||_2 s[t].
// With eps = 1e-4, rounding blurs s below about 1e-12: the step ratios are taken only while s > 1e-7.
Sensitivity compute_sensitivity(const Options& opt, Rng& rng) {
  Sensitivity s;
  s.n = opt.seq_len;
  s.d = opt.d_model;
  const std::size_t n = s.n, d = s.d;
  const RnnWeights w = random_rnn(rng, d, d);
  const Matrix h0 = xt::zeros<double>({std::size_t{1}, d});
  const double a = 1.0 / std::sqrt(static_cast<double>(d));
  const Matrix w_q = a * rng.normal_matrix(d, d);
  const Matrix w_k = a * rng.normal_matrix(d, d);
  const Matrix w_v = rng.normal_matrix(d, d);
  const Matrix x = rng.normal_matrix(n, d);
  s.rnn = sensitivity([&](const Matrix& in) { return rnn_forward(in, w, h0).output; }, x, s.eps);
  s.attention =
      sensitivity([&](const Matrix& in) { return self_attention(in, w_q, w_k, w_v).output; }, x, s.eps);

  // the RNN: its bound per step, and the steps measured
  s.w_hh_norm = spectral_norm(w.weight_hh_l0);
  const Matrix states = rnn_forward(x, w, h0).output;
  s.mean_tanh_slope = xt::mean(1.0 - states * states)();
  while (s.last + 1 < n && s.rnn(s.last + 1) > 1e-7) ++s.last;
  for (std::size_t t = 1; t < s.last; ++t) s.max_step = std::max(s.max_step, s.rnn(t + 1) / s.rnn(t));
  s.mean_step = std::pow(s.rnn(s.last) / s.rnn(1), 1.0 / static_cast<double>(s.last - 1));

  // attention: the weights on x_0, and s away from t = 0
  const Matrix weights = self_attention(x, w_q, w_k, w_v).weights;
  for (std::size_t t = 0; t < n; ++t) {
    s.weight_min = std::min(s.weight_min, weights(t, 0));
    s.weight_max = std::max(s.weight_max, weights(t, 0));
  }
  s.attention_min = s.attention(1);
  s.attention_max = s.attention(1);
  for (std::size_t t = 1; t < n; ++t) {
    s.attention_min = std::min(s.attention_min, s.attention(t));
    s.attention_max = std::max(s.attention_max, s.attention(t));
  }
  return s;
}

// The rows of the sensitivity table: t = 0, 1, 2, 4, 8, ... and the last position n - 1.
std::vector<std::size_t> table_steps(std::size_t n) {
  std::vector<std::size_t> steps = {0};
  for (std::size_t t = 1; t < n; t *= 2) steps.push_back(t);
  if (steps.back() != n - 1) steps.push_back(n - 1);
  return steps;
}

void show_sensitivity(const Sensitivity& s, Figures& figures) {
  print_section("3. How strongly output t depends on input 0 (finite differences)");
  fmt::print(
      "s[t] = |d output_t / d x_0| along (1, ..., 1)/sqrt(d), by central differences, eps = {:.0e}.\n\n",
      s.eps);
  fmt::print("{:>4} {:>16} {:>16}\n", "t", "RNN", "self-attention");
  for (std::size_t t : table_steps(s.n))
    fmt::print("{:>4} {:>16.3e} {:>16.3e}\n", t, s.rnn(t), s.attention(t));
  fmt::print(
      "\nRNN: ||W_hh||_2 = {:.3f} and tanh' = 1 - h² <= 1 ({:.3f} on average over these states), so\n"
      "by the chain rule no step can multiply s by more than {:.3f}. Measured from t = 1 to {}: {:.3f}\n"
      "per step on average, {:.3f} at most. The influence of x_0 fades geometrically.\n",
      s.w_hh_norm, s.mean_tanh_slope, s.w_hh_norm, s.last, s.mean_step, s.max_step);
  fmt::print(
      "Attention: output t reads x_0 directly, with a weight between {:.3f} and {:.3f} for every t\n"
      "(1/n = {:.3f}); s[t] stayed between {:.2e} and {:.2e} for t = 1 .. {}: distance does not matter.\n",
      s.weight_min, s.weight_max, 1.0 / static_cast<double>(s.n), s.attention_min, s.attention_max, s.n - 1);

  // the figure, on a log scale: values below 1e-17 (rounding) are drawn at 1e-17
  std::vector<double> steps, rnn, attention;
  for (std::size_t t = 0; t < s.n; ++t) {
    steps.push_back(static_cast<double>(t));
    rnn.push_back(std::max(s.rnn(t), 1e-17));
    attention.push_back(std::max(s.attention(t), 1e-17));
  }
  const PlotSpec spec{fmt::format("How much output t depends on input 0 (n = {}, d = {})", s.n, s.d), "t",
                      "|d output_t / d x_0|", /*log2_x=*/false, /*log10_y=*/true};
  figures.line_plot("10-sensitivity.svg", steps, {{"RNN", rnn}, {"self-attention", attention}}, spec);
}

// Mean of v over t = from .. from + count - 1.
double mean_over(const Vector& v, std::size_t from, std::size_t count) {
  double sum = 0;
  for (std::size_t t = from; t < from + count; ++t) sum += v(t);
  return sum / static_cast<double>(count);
}

// --- Self-checks and the run ---------------------------------------------------------------------------

int self_checks(const Table1& table, const Sensitivity& s) {
  print_section("Self-checks");
  SelfChecks checks;
  checks.expect("traced counts are 2n²d, 2nd², knd²; sequential ops constant, n, constant; paths 1, n",
                table1_as_the_paper_says(table));
  checks.expect(fmt::format("RNN: s[t+1] <= ||W_hh||_2 s[t] (the chain rule's bound) for t = 1 .. {}, while "
                            "s > 1e-7",
                            s.last - 1),
                s.max_step <= s.w_hh_norm * (1 + 1e-4),  // room for the finite differences
                fmt::format("largest step {:.3f}, ||W_hh||_2 = {:.3f}", s.max_step, s.w_hh_norm));
  const std::size_t n = s.n;
  if (n >= 32) {
    // attention: mean sensitivity over the first and the last quarter of t = 1 .. n-1 (averages:
    // single positions vary with their content)
    const std::size_t quarter = (n - 1) / 4;
    const double att_early = mean_over(s.attention, 1, quarter),
                 att_late = mean_over(s.attention, n - quarter, quarter);
    checks.expect("the RNN's dependence on x_0 fades: s[n-1] < 10% of s[1]", s.rnn(n - 1) < 0.1 * s.rnn(1),
                  fmt::format("{:.1e} against {:.1e}", s.rnn(n - 1), s.rnn(1)));
    checks.expect("attention's does not: last quarter of s > 10% of first quarter",
                  att_late > 0.1 * att_early,
                  fmt::format("means {:.1e} against {:.1e}", att_late, att_early));
  } else {
    fmt::print("fading checks: skipped (they need --seq-len 32 or more)\n");
  }
  return checks.exit_code();
}

// What a run needs, estimated from its sizes before it starts. Alive at the peak: a few (n, n) and
// (d, d) matrices and the traced values (3 copies of (2n, d) and (n, 8d)). The work: Table 1
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

// The flags, each setting a field of Options (the sizes up to what fits the limits, cost_of).
void add_flags(CLI::App& app, Options& opt) {
  add_size_flag(app, "--seq-len", opt, &Options::seq_len, "Positions n", cost_of, 3,
                "at least 3: section 3 compares outputs 1 .. n-1");
  add_size_flag(app, "--d-model", opt, &Options::d_model, "Width d of every position", cost_of);
  add_size_flag(app, "--kernel", opt, &Options::kernel, "Kernel width k of the (causal) convolution", cost_of,
                2, "at least 2: a convolution of width 1 never connects two positions");
  add_common_options(app, opt.common, /*interop=*/true);
}

// --load DIR: torch.nn.RNN on PyTorch's files; --save DIR writes output.npy and h_n.npy.
int run_loaded(const Options& opt) {
  const RnnFiles f = load_rnn(opt.common.load_dir);
  require_no_unread_files(opt.common.load_dir, {"output", "h_n"}, "torch.nn.RNN's files");
  const RnnResult r = rnn_forward(f.input, f.weights, f.h0);
  print_title("Chapter 10 · torch.nn.RNN on " + opt.common.load_dir);
  report_results(
      {shown_matrix("output", r.output, "output (L, H)"), shown_matrix("h_n", r.h_n, "h_n (1, H)")},
      opt.common.save_dir);
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
  Figures figures(opt.common);
  const RnnExample example = compute_rnn_example(rng);
  show_rnn_example(example);
  const Table1 table = compute_table1(opt);
  show_table1(table);
  const Sensitivity sensitivity = compute_sensitivity(opt, rng);
  show_sensitivity(sensitivity, figures);
  const int status = self_checks(table, sensitivity);
  figures.report();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 10: attention vs RNN: Table 1 measured, and fading memory", "ch10_attention_vs_rnn"};
  Options opt;
  add_flags(app, opt);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

// Chapter 15 — from RNN to attention, learned: attention pooling without a learned weight
// (Nadaraya–Watson), additive scoring beside the dot product, backpropagation through time checked and
// the vanishing gradient seen, then Bahdanau et al.'s experiment (2015, Figure 2) on a toy task: three
// RNN encoder–decoders — one context vector, additive attention, dot-product attention — and a small
// transformer encoder–decoder, trained the same way to reverse digit strings, their accuracy against
// the length. With --load DIR, the
// gradients of torch.nn.RNN's files (as output.backward(grad_output) leaves them in .grad).
//
//   build/bin/ch15_rnn_to_attention [--max-len N] [--hidden H] [--train-steps S] [--batch B] [--lr LR]
//                                   [--full] [--seed S] [--svg DIR] [--no-color]
//   build/bin/ch15_rnn_to_attention --load DIR [--save DIR]       (torch.nn.RNN, tanh, one layer)
//
// The program's shape: Options (the flags); one compute_* per section fills a named struct; show_*
// prints it, draw() writes the figures (nothing without --svg), self_checks() checks every claim;
// run() calls them in that order. run_loaded() does the same for --load.
#include "10_attention_vs_rnn/given.hpp"  // load_rnn
#include "15_rnn_to_attention/given.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "results.hpp"
#include "rng.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

using namespace course;

namespace {

// The longest digit string the task generator makes: past it, the probe's gradients and the attention
// maps stop fitting on a screen, and the training no longer fits the time limit at --full's sizes.
constexpr int kMaxLength = 30;

struct Options {
  CommonOptions common;
  int max_len = 5;        // n_max: train on strings of 1..n_max digits, test on each length
  int hidden = 16;        // H of every RNN (the embeddings are H/2 wide, additive attention's A = H)
  int train_steps = 100;  // optimiser steps, the same for the four models
  int batch = 8;          // strings per step
  double lr = 5e-3;       // AdamW's learning rate, the same for the four models
  int eval_count = 100;   // held-out strings per length
  bool full = false;      // --full: the experiment of the docs (n_max 12, H 32, 3000 steps of 32)
};

// The sizes of --full, set before anything runs (explicit flags are refused with --full, but for
// --hidden: the same experiment with a larger state).
void apply_full(Options& opt, bool hidden_given) {
  opt.max_len = 12;
  if (!hidden_given) opt.hidden = 32;
  opt.train_steps = 3000;
  opt.batch = 32;
}

TrainConfig config_of(const Options& opt) {
  TrainConfig c;
  c.H = static_cast<std::size_t>(opt.hidden);
  c.D = std::max<std::size_t>(1, c.H / 2);
  c.A = c.H;
  // model (d): d_model E = 2 floor(H/4), at least 2 (even, as the sinusoidal positions need; = D when
  // 4 divides H, as at the default and --full sizes), F = H, two heads
  c.E = 2 * std::max<std::size_t>(1, c.H / 4);
  c.F = c.H;
  c.heads = 2;
  c.n_max = static_cast<std::size_t>(opt.max_len);
  c.steps = static_cast<std::size_t>(opt.train_steps);
  c.batch = static_cast<std::size_t>(opt.batch);
  c.lr = opt.lr;
  c.clip = 1.0;
  c.seed = opt.common.seed;
  c.probe_every = std::max<std::size_t>(1, c.steps / 10);
  return c;
}

// What a run costs, estimated before it starts (the cost constants are in cli.hpp). Per decoder or
// encoder step of one string: the RNN step and its backward, 4 (D + 2H) H multiply-adds; attention
// over n states and its backward, n (2 A tanh + 6 H); and the fresh matrices of about 10 H doubles
// (measured: the estimate is 3 to 5 times the time the default and --full runs take on this machine).
// Training: steps x batch x 3 models x 2 n_max/2 steps (lengths average n_max/2); evaluation: a
// third of that per greedy string, for eval_count strings of each length; sections 1-3 are fixed
// and small (2e7); model (d) below.
Cost cost_of(const Options& opt) {
  const double H = opt.hidden, D = std::max(1, opt.hidden / 2), A = H, n = opt.max_len;
  const double per_step =
      4.0 * (D + 2.0 * H) * H + n * (2.0 * A * math_call + 6.0 * H) + 10.0 * H * fresh_double;
  const double train = static_cast<double>(opt.train_steps) * opt.batch * 3.0 * n * per_step;
  const double evaluate = 3.0 * opt.eval_count * n * n * per_step / 3.0;
  const double probes = 11.0 * opt.batch * 3.0 * 2.0 * n * per_step;
  // (d), per token (n of them per string, source and target together): the forward's products, 12 E²
  // in the attentions' projections and 4 E F in the two feed-forwards, 4 n E in the attention scores and
  // sums, three times that with the backward, and 100 E fresh doubles (the many small matrices of the
  // heads; set so that (d)'s share of the estimate is its measured share of --full's time, 22 of 60 s
  // CPU); greedy decoding reruns the prefix, about n³/2 token forwards summed over the lengths
  const double E = 2.0 * std::max(1, opt.hidden / 4), F = H;
  const double per_token = 3.0 * (12.0 * E * E + 4.0 * E * F + 4.0 * n * E) + 100.0 * E * fresh_double;
  const double transformer = static_cast<double>(opt.train_steps) * opt.batch * n * per_token +
                             opt.eval_count * 0.5 * n * n * n * per_token / 3.0 +
                             11.0 * opt.batch * 2.0 * n * per_token;
  const double bytes = 8.0 * (3.0 * (4.0 * (D + 2.0 * H) * H + 12.0 * (D + H)) + 64.0 * n * n * H);
  return {bytes, 2e7 + train + evaluate + probes + transformer};
}

// --full may take minutes: its own limit, about eleven minutes at the measured rate of cli.hpp (the
// estimate is 3 to 5 times the time taken: --full --hidden 48 is estimated at 9.5 minutes and takes
// about two).
constexpr Limits training_limits{memory_limit_bytes, 200 * work_limit};

std::string sci(double x) {
  return fmt::format("{:.1e}", x);
}

// ---- 1. attention pooling: Nadaraya–Watson ---------------------------------------------------------

// The example of d2l.ai's "Attention Pooling by Similarity": y = 2 sin x + x^0.8 + noise on [0, 5].
double truth(double x) {
  return 2.0 * std::sin(x) + std::pow(x, 0.8);
}

struct PoolingExample {
  Vector x_train, y_train;  // (m) sorted inputs, noisy targets
  Vector x_test, y_true;    // (n) an even grid, the noiseless function there
  std::vector<double> bandwidths;
  std::vector<KernelRegression> fits;  // one per bandwidth
  std::vector<double> mse;             // mean squared error against y_true, per bandwidth
  std::size_t best = 0;                // the bandwidth with the smallest error
};

PoolingExample compute_pooling(Rng& rng) {
  PoolingExample e;
  const std::size_t m = 50, n = 51;
  std::vector<double> xs(m);
  for (double& x : xs) x = rng.uniform(0.0, 5.0);
  std::sort(xs.begin(), xs.end());
  e.x_train = Vector::from_shape({m});
  e.y_train = Vector::from_shape({m});
  for (std::size_t j = 0; j < m; ++j) {
    e.x_train(j) = xs[j];
    e.y_train(j) = truth(xs[j]) + 0.5 * rng.normal();
  }
  e.x_test = Vector::from_shape({n});
  e.y_true = Vector::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) {
    e.x_test(i) = 5.0 * static_cast<double>(i) / static_cast<double>(n - 1);
    e.y_true(i) = truth(e.x_test(i));
  }
  e.bandwidths = {0.03, 0.1, 0.3, 1.0, 3.0};
  for (double h : e.bandwidths) {
    e.fits.push_back(nadaraya_watson(e.x_test, e.x_train, e.y_train, h));
    double se = 0.0;
    for (std::size_t i = 0; i < n; ++i) se += std::pow(e.fits.back().estimate(i) - e.y_true(i), 2);
    e.mse.push_back(se / static_cast<double>(n));
    if (e.mse.back() < e.mse[e.best]) e.best = e.mse.size() - 1;
  }
  return e;
}

void show_pooling(const PoolingExample& e) {
  print_section("1. Attention pooling without learned weights: Nadaraya–Watson kernel regression");
  fmt::print(
      "{} noisy samples of y = 2 sin x + x^0.8 (noise N(0, 0.5²)) on [0, 5]. The query is a point x, the\n"
      "keys are the samples' x_j, the values their y_j; the score is −(x − x_j)² / 2h², a Gaussian kernel\n"
      "of bandwidth h, and f(x) = Σ_j softmax_j(score) y_j. Nothing is learned; h is the only knob.\n\n",
      e.x_train.size());
  fmt::print("{:>10}  {:>26}  {:>24}\n", "bandwidth", "mean squared error vs truth",
             "largest weight at x = 2.5");
  const std::size_t middle = e.x_test.size() / 2;
  for (std::size_t b = 0; b < e.bandwidths.size(); ++b) {
    double largest = 0.0;
    for (std::size_t j = 0; j < e.x_train.size(); ++j)
      largest = std::max(largest, e.fits[b].weights(middle, j));
    fmt::print("{:>10}  {:>26.4f}  {:>24.3f}{}\n", e.bandwidths[b], e.mse[b], largest,
               b == e.best ? "   <- smallest error" : "");
  }
  fmt::print(
      "A small h averages few neighbours (the noise stays); a large h averages everything (the shape "
      "goes).\n");
}

// ---- 2. additive scoring beside the dot product ------------------------------------------------------

struct ScoringExample {
  Matrix queries, keys, values;  // (2, 3), (4, 5), (4, 2): queries and keys of different widths
  AdditiveWeights w;             // A = 4
  AdditiveAttentionResult additive;
  std::string dot_refusal;  // what chapter 02's attention says to the same inputs
  struct CostRow {
    double n, additive, dot;  // multiply-adds (tanh counted apart) for L = S = n, Dq = Dk = A = d
    double tanh_calls;
  };
  std::vector<CostRow> rows;
  std::size_t d = 0;
};

ScoringExample compute_scoring(Rng& rng) {
  ScoringExample e;
  e.queries = rng.normal_matrix(2, 3);
  e.keys = rng.normal_matrix(4, 5);
  e.values = rng.normal_matrix(4, 2);
  e.w.W_q = rng.uniform_matrix(4, 3, -0.5, 0.5);
  e.w.W_k = rng.uniform_matrix(4, 5, -0.5, 0.5);
  e.w.w_v = Vector::from_shape({4});
  for (double& x : e.w.w_v) x = rng.uniform(-1.0, 1.0);
  e.additive = additive_attention(e.queries, e.keys, e.values, e.w);
  try {
    scaled_dot_product_attention(e.queries, e.keys, e.values);
  } catch (const std::invalid_argument& error) {
    e.dot_refusal = error.what();
  }
  e.d = 64;
  for (double n : {16.0, 256.0, 4096.0}) {
    const double d = static_cast<double>(e.d);
    // additive: the projections once per token (n d A each side), then w_vᵀ tanh(·) per pair (A each)
    e.rows.push_back({n, 2.0 * n * d * d + n * n * d, n * n * d, n * n * d});
  }
  return e;
}

void show_scoring(const ScoringExample& e) {
  print_section("2. Additive scoring a(q, k) = w_vᵀ tanh(W_q q + W_k k) beside the dot product q·k");
  print_matrix("queries (L = 2, Dq = 3)", e.queries);
  print_matrix("keys (S = 4, Dk = 5)", e.keys);
  print_matrix("additive_attention weights (2, 4), A = 4: each row sums to 1", e.additive.weights);
  fmt::print("chapter 02's scaled_dot_product_attention on the same queries and keys refuses:\n  {}\n",
             e.dot_refusal);
  fmt::print(
      "\nCost of all L·S scores for L = S = n and Dq = Dk = A = d = {} (multiply-adds, counted from the\n"
      "formulas): additive projects each query and each key once (2 n d A), then per pair adds the two\n"
      "projections, takes A tanh and multiplies by w_v (n² A, plus n² A tanh); the dot product is d per "
      "pair.\n",
      e.d);
  fmt::print("{:>6}  {:>16}  {:>16}  {:>12}  {:>16}\n", "n", "additive", "dot product", "ratio",
             "tanh calls");
  for (const ScoringExample::CostRow& r : e.rows)
    fmt::print("{:>6}  {:>16.3e}  {:>16.3e}  {:>12.2f}  {:>16.3e}\n", r.n, r.additive, r.dot,
               r.additive / r.dot, r.tanh_calls);
  fmt::print(
      "Per score both cost about d multiply-adds once n ≫ d, but additive adds d tanh per pair (each some\n"
      "15 multiply-adds, cli.hpp's measurement) and cannot be one matrix product: Q Kᵀ can (Luong et al. "
      "2015).\n");
}

// ---- 3. backpropagation through time ----------------------------------------------------------------

struct BpttExample {
  Matrix x, h0, grad_output, grad_h_n;  // (8, 3), (1, 5), (8, 5), (1, 5)
  RnnWeights w;
  RnnResult forward;
  RnnGradients g;
  std::vector<std::pair<std::string, GradcheckResult>> checks;
  // the vanishing gradient: ‖∂⟨h_t, u⟩/∂x_1‖ for t = 1..T of one RNN drawn as torch.nn.RNN draws
  std::vector<double> reach;  // (T)
};

RnnWeights pytorch_rnn(std::size_t H_in, std::size_t H, Rng& rng) {
  const double k = 1.0 / std::sqrt(static_cast<double>(H));
  RnnWeights w;
  w.weight_ih_l0 = rng.uniform_matrix(H, H_in, -k, k);
  w.weight_hh_l0 = rng.uniform_matrix(H, H, -k, k);
  const Matrix b = rng.uniform_matrix(2, H, -k, k);
  w.bias_ih_l0 = xt::view(b, 0, xt::all());
  w.bias_hh_l0 = xt::view(b, 1, xt::all());
  return w;
}

BpttExample compute_bptt(Rng& rng) {
  BpttExample e;
  const std::size_t L = 8, H_in = 3, H = 5;
  e.x = rng.normal_matrix(L, H_in);
  e.h0 = rng.normal_matrix(1, H);
  e.w = pytorch_rnn(H_in, H, rng);
  e.grad_output = rng.normal_matrix(L, H);
  e.grad_h_n = rng.normal_matrix(1, H);
  e.forward = rnn_forward(e.x, e.w, e.h0);
  e.g = rnn_backward(e.x, e.w, e.h0, e.forward.output, e.grad_output, e.grad_h_n);
  // the loss ⟨output, dO⟩ + ⟨h_n, dh_n⟩, re-run with each entry moved by ±ε
  Matrix x = e.x, h0 = e.h0;
  RnnWeights w = e.w;
  const std::function<double()> loss = [&] {
    const RnnResult r = rnn_forward(x, w, h0);
    return sum_of_products(r.output, e.grad_output) + sum_of_products(r.h_n, e.grad_h_n);
  };
  e.checks.push_back({"input", compare_gradients(e.g.input, numerical_gradient_in_place(x, loss, 1e-6))});
  e.checks.push_back({"h0", compare_gradients(e.g.h0, numerical_gradient_in_place(h0, loss, 1e-6))});
  e.checks.push_back({"weight_ih_l0", compare_gradients(e.g.weight_ih_l0, numerical_gradient_in_place(
                                                                              w.weight_ih_l0, loss, 1e-6))});
  e.checks.push_back({"weight_hh_l0", compare_gradients(e.g.weight_hh_l0, numerical_gradient_in_place(
                                                                              w.weight_hh_l0, loss, 1e-6))});
  e.checks.push_back({"bias_ih_l0", compare_gradients(e.g.bias_ih_l0, numerical_gradient_in_place(
                                                                          w.bias_ih_l0, loss, 1e-6))});
  e.checks.push_back({"bias_hh_l0", compare_gradients(e.g.bias_hh_l0, numerical_gradient_in_place(
                                                                          w.bias_hh_l0, loss, 1e-6))});
  // the vanishing gradient: a gradient u (unit, all entries equal) on output t only, back to x_1
  const std::size_t T = 24, H2 = 16;
  const Matrix long_x = rng.normal_matrix(T, H_in);
  const RnnWeights long_w = pytorch_rnn(H_in, H2, rng);
  const Matrix zero_h0 = xt::zeros<double>({std::size_t{1}, H2});
  const RnnResult long_forward = rnn_forward(long_x, long_w, zero_h0);
  for (std::size_t t = 0; t < T; ++t) {
    Matrix dO = xt::zeros<double>({T, H2});
    for (std::size_t j = 0; j < H2; ++j) dO(t, j) = 1.0 / std::sqrt(static_cast<double>(H2));
    const RnnGradients g = rnn_backward(long_x, long_w, zero_h0, long_forward.output, dO,
                                        Matrix(xt::zeros<double>({std::size_t{1}, H2})));
    double sq = 0.0;
    for (std::size_t j = 0; j < H_in; ++j) sq += g.input(0, j) * g.input(0, j);
    e.reach.push_back(std::sqrt(sq));
  }
  return e;
}

void show_bptt(const BpttExample& e) {
  print_section("3. Backpropagation through time: rnn_backward, checked, and the gradient that vanishes");
  fmt::print(
      "An RNN with L = 8, H_in = 3, H = 5 (weights drawn as torch.nn.RNN draws them), the loss\n"
      "⟨output, dO⟩ + ⟨h_n, dh_n⟩ with random dO and dh_n. rnn_backward against central differences (ε = "
      "1e-6):\n");
  for (const auto& [name, r] : e.checks)
    fmt::print("  {:<14} {:>3} entries, max relative error {}\n", name, r.entries, sci(r.max_rel_error));
  fmt::print(
      "\nThe gradient reaching the first input x_1 from output t alone, ‖∂⟨h_t, u⟩/∂x_1‖ (u a unit vector),\n"
      "for an RNN with H = 16 and PyTorch's initialisation: each step back multiplies by W_hh and tanh' ≤ "
      "1.\n");
  for (std::size_t t = 0; t < e.reach.size(); t += 4) fmt::print("  t = {:>2}: {}\n", t + 1, sci(e.reach[t]));
  fmt::print("  t = {:>2}: {}\n", e.reach.size(), sci(e.reach.back()));
}

// ---- 4. the experiment: three RNN encoder–decoders and a transformer on digit reversal ------------

struct ModelResult {
  std::string name;
  std::size_t parameters = 0;
  std::vector<double> losses, grad_first_input, grad_last_input;  // as TrainedModel's
  std::vector<LengthAccuracy> accuracy;                           // n = 1..n_max
  Seq2SeqPrediction example;                                      // on Experiment::example
};

struct Experiment {
  TrainConfig config;
  std::size_t eval_count = 0;
  std::vector<std::vector<ReversalExample>>
      test;                         // (n_max): the held-out strings of length n, never trained on
  std::vector<ModelResult> models;  // (a), (b), (c), (d)
  ReversalExample example;          // the first held-out string of n_max digits
};

// What training gave a model (an RNN's TrainedModel or the TrainedTransformer), under NAME; its accuracy
// and example are measured afterwards.
template <class Trained>
ModelResult result_of(const std::string& name, const Trained& m) {
  return {name, parameter_count(m.weights), m.losses, m.grad_first_input, m.grad_last_input, {}, {}};
}

Experiment compute_experiment(const Options& opt) {
  Experiment e;
  e.config = config_of(opt);
  e.eval_count = static_cast<std::size_t>(opt.eval_count);
  // the held-out strings, one stream per length, seeded apart; training never draws one of them
  for (std::size_t n = 1; n <= e.config.n_max; ++n) {
    Rng test(e.config.seed + 1000 + n);
    e.test.push_back(held_out_strings(n, e.eval_count, test));
    for (const ReversalExample& x : e.test.back()) e.config.held_out.insert(x.source);
  }
  e.example = e.test.back().front();
  const TrainedModels trained = train_models(e.config);
  // every model is tested on the same held-out strings
  for (const TrainedModel& m : trained.rnn) {
    ModelResult r = result_of(context_name(m.kind), m);
    for (const std::vector<ReversalExample>& strings : e.test)
      r.accuracy.push_back(evaluate_reversal(m.kind, m.weights, strings));
    r.example = seq2seq_greedy(m.kind, m.weights, e.example.source, e.config.n_max);
    e.models.push_back(std::move(r));
  }
  const TrainedTransformer& d = trained.transformer;
  ModelResult r = result_of("(d) transformer encoder-decoder", d);
  for (const std::vector<ReversalExample>& strings : e.test)
    r.accuracy.push_back(evaluate_reversal(d.weights, strings));
  r.example = transformer_greedy(d.weights, e.example.source, e.config.n_max);
  e.models.push_back(std::move(r));
  return e;
}

std::string digits_text(const std::vector<std::size_t>& digits) {
  std::string s;
  for (std::size_t d : digits) s += static_cast<char>('0' + d);
  return s;
}

void show_experiment(const Experiment& e) {
  const TrainConfig& c = e.config;
  print_section("4. Bahdanau et al.'s experiment on a toy task: reverse a string of n digits");
  fmt::print(
      "Three encoder–decoders, each an RNN encoder (H = {}) over digit embeddings (D = {}) and an RNN "
      "decoder\n"
      "whose input at step t is [embedding of the previous digit; context c_t]:\n"
      "  (a) c_t = h_n, the encoder's last state: one vector of {} numbers for the whole string\n"
      "  (b) c_t = additive attention from s_(t-1) over the encoder states h_1..h_n (A = {})\n"
      "  (c) c_t = scaled dot-product attention from s_(t-1) over h_1..h_n\n"
      "and (d) a transformer: one encoder layer (chapter 14) and one decoder layer (causal self-attention,\n"
      "cross-attention to the encoder's output, feed-forward; post-norm), E = {}, F = {}, {} head(s),\n"
      "sinusoidal positions (chapter 07).\n"
      "Trained together: {} steps of AdamW (lr {}, no weight decay, gradient norm clipped to {}), each step\n"
      "one batch of {} strings of 1..{} digits drawn once and given to all four, teacher forcing, mean\n"
      "cross-entropy; (a)-(c) start from the same weights where they share a shape. Tested greedily on {}\n"
      "held-out strings per length (at most half of the 10^n strings of length n): distinct, and never\n"
      "drawn for training (a batch redraws any string that is one of them).\n\n",
      c.H, c.D, c.H, c.A, c.E, c.F, c.heads, c.steps, c.lr, c.clip, c.batch, c.n_max, e.eval_count);
  fmt::print("{:<34} {:>10} {:>12} {:>12}\n", "model", "parameters", "first loss", "last loss");
  for (const ModelResult& m : e.models)
    fmt::print("{:<34} {:>10} {:>12.4f} {:>12.4f}\n", m.name, m.parameters, m.losses.front(),
               m.losses.back());
  fmt::print("\nAccuracy per digit / per whole string on the held-out strings, by length n:\n{:>4} {:>7}",
             "n", "strings");
  for (const char* name : {"(a) one context", "(b) additive", "(c) dot product", "(d) transformer"})
    fmt::print("  {:>17}", name);
  fmt::print("\n");
  for (std::size_t i = 0; i < c.n_max; ++i) {
    fmt::print("{:>4} {:>7}", i + 1, e.test[i].size());
    for (const ModelResult& m : e.models)
      fmt::print("  {:>8.2f} / {:>5.2f}", m.accuracy[i].token, m.accuracy[i].sequence);
    fmt::print("\n");
  }
  fmt::print("\nOne held-out string: {} -> reversed {}\n", digits_text(e.example.source),
             digits_text(e.example.target));
  for (std::size_t k = 0; k < e.models.size(); ++k)
    fmt::print("  {:<34} {}\n", e.models[k].name, digits_text(e.models[k].example.digits));
  print_matrix("(b)'s attention on it: row t = output digit, column j = input digit",
               e.models[1].example.attention, numbered("y", c.n_max), numbered("x", c.n_max), 2);
  print_matrix("(d)'s cross-attention on it, the mean of its heads", e.models[3].example.attention,
               numbered("y", c.n_max), numbered("x", c.n_max), 2);
  fmt::print(
      "\nThe gradient reaching the first input's embedding, ‖∂L/∂x_1‖, against the last's, ‖∂L/∂x_n‖, on a\n"
      "fixed probe batch of {}-digit strings during training:\n{:>6}",
      c.n_max, "step");
  for (const char* name : {"(a) x_1 / x_n", "(b) x_1 / x_n", "(c) x_1 / x_n", "(d) x_1 / x_n"})
    fmt::print("  {:>19}", name);
  fmt::print("\n");
  for (std::size_t p = 0; p < e.models[0].grad_first_input.size(); ++p) {
    fmt::print("{:>6}", std::min(p * c.probe_every, c.steps));
    for (const ModelResult& m : e.models)
      fmt::print("  {:>9} / {:>7}", sci(m.grad_first_input[p]), sci(m.grad_last_input[p]));
    fmt::print("\n");
  }
}

// ---- figures ----------------------------------------------------------------------------------------

void draw(const PoolingExample& pool, const BpttExample& bptt, const Experiment& e, Figures& figures) {
  std::vector<double> x(pool.x_test.begin(), pool.x_test.end());
  std::vector<Series> series = {
      {"truth 2 sin x + x^0.8", std::vector<double>(pool.y_true.begin(), pool.y_true.end())}};
  for (std::size_t b : {std::size_t{1}, pool.best, pool.bandwidths.size() - 1}) {
    if (b == pool.best && b == 1) continue;
    series.push_back({fmt::format("h = {}", pool.bandwidths[b]),
                      std::vector<double>(pool.fits[b].estimate.begin(), pool.fits[b].estimate.end())});
  }
  figures.line_plot("15-nadaraya-watson.svg", x, series,
                    {"Nadaraya–Watson estimates of a noisy function, by bandwidth h", "x", "y"});
  std::vector<double> steps;
  for (std::size_t t = 0; t < bptt.reach.size(); ++t) steps.push_back(static_cast<double>(t + 1));
  figures.line_plot(
      "15-vanishing-gradient.svg", steps, {{"‖∂⟨h_t, u⟩/∂x_1‖", bptt.reach}},
      {"The gradient reaching x_1 from output t (H = 16, PyTorch's init)", "t", "norm", false, true});
  std::vector<double> lengths;
  for (std::size_t n = 1; n <= e.config.n_max; ++n) lengths.push_back(static_cast<double>(n));
  std::vector<Series> token, sequence;
  for (const ModelResult& m : e.models) {
    std::vector<double> t, s;
    for (const LengthAccuracy& a : m.accuracy) {
      t.push_back(a.token);
      s.push_back(a.sequence);
    }
    token.push_back({m.name, t});
    sequence.push_back({m.name, s});
  }
  figures.line_plot("15-accuracy-per-string.svg", lengths, sequence,
                    {"Strings reversed without a mistake, by length (cf. Bahdanau et al. 2015, Fig. 2)",
                     "length n", "accuracy per string"});
  figures.line_plot("15-accuracy-per-digit.svg", lengths, token,
                    {"Digits right, by length", "length n", "accuracy per digit"});
  const Labels outputs = numbered("y", e.config.n_max), inputs = numbered("x", e.config.n_max);
  figures.heatmap("15-attention-additive.svg", e.models[1].example.attention,
                  heatmap_spec("(b) additive attention while reversing " + digits_text(e.example.source),
                               outputs, inputs, "output digit t", "input digit j"));
  figures.heatmap("15-attention-dot.svg", e.models[2].example.attention,
                  heatmap_spec("(c) dot-product attention while reversing " + digits_text(e.example.source),
                               outputs, inputs, "output digit t", "input digit j"));
  figures.heatmap("15-attention-transformer.svg", e.models[3].example.attention,
                  heatmap_spec("(d) transformer's cross-attention (mean of heads) while reversing " +
                                   digits_text(e.example.source),
                               outputs, inputs, "output digit t", "input digit j"));
  std::vector<double> probe_steps;
  for (std::size_t p = 0; p < e.models[0].grad_first_input.size(); ++p)
    probe_steps.push_back(static_cast<double>(std::min(p * e.config.probe_every, e.config.steps)));
  std::vector<Series> reach;
  for (const ModelResult& m : e.models) reach.push_back({m.name, m.grad_first_input});
  figures.line_plot("15-gradient-first-input.svg", probe_steps, reach,
                    {"‖∂L/∂x_1‖ on the probe batch during training", "step", "norm", false, true});
}

// ---- self-checks --------------------------------------------------------------------------------------

double row_sum_error(const Matrix& m) {
  double worst = 0.0;
  for (std::size_t i = 0; i < m.shape(0); ++i) {
    double s = 0.0;
    for (std::size_t j = 0; j < m.shape(1); ++j) s += m(i, j);
    worst = std::max(worst, std::abs(s - 1.0));
  }
  return worst;
}

SelfChecks self_checks(const PoolingExample& pool, const ScoringExample& sc, const BpttExample& bptt,
                       const Experiment& e) {
  print_section("Self-checks");
  SelfChecks checks;
  double worst = 0.0;
  bool inside = true;
  double low = pool.y_train(0), high = pool.y_train(0);
  for (double y : pool.y_train) {
    low = std::min(low, y);
    high = std::max(high, y);
  }
  for (const KernelRegression& f : pool.fits) {
    worst = std::max(worst, row_sum_error(f.weights));
    for (double y : f.estimate) inside = inside && y >= low - 1e-12 && y <= high + 1e-12;
  }
  checks.close("Nadaraya–Watson: every row of weights sums to 1", worst, 1e-14);
  checks.expect("Nadaraya–Watson: every estimate lies between the smallest and largest y_j", inside);
  checks.close("additive attention: each row of weights sums to 1", row_sum_error(sc.additive.weights),
               1e-15);
  checks.expect("the dot product refuses queries and keys of different widths", !sc.dot_refusal.empty());
  double bptt_worst = 0.0;
  for (const auto& c : bptt.checks) bptt_worst = std::max(bptt_worst, c.second.max_rel_error);
  checks.close("rnn_backward: all 6 gradients agree with central differences", bptt_worst, 1e-8);
  checks.expect("rnn_backward: db_ih = db_hh, exactly",
                max_abs_diff(bptt.g.bias_ih_l0, bptt.g.bias_hh_l0) == 0.0);
  bool finite = true, in_range = true, attention_rows = true;
  for (const ModelResult& m : e.models) {
    for (double l : m.losses) finite = finite && std::isfinite(l);
    for (const LengthAccuracy& a : m.accuracy)
      in_range = in_range && a.token >= 0.0 && a.token <= 1.0 && a.sequence >= 0.0 && a.sequence <= a.token;
  }
  for (std::size_t k = 1; k < 4; ++k)
    attention_rows = attention_rows && row_sum_error(e.models[k].example.attention) <= 1e-14;
  checks.expect("training: every loss of the four models is finite", finite);
  checks.expect("testing: 0 ≤ accuracy per string ≤ accuracy per digit ≤ 1", in_range);
  checks.expect("the attention maps of (b), (c) and (d): each row sums to 1", attention_rows);
  checks.expect("(a) and (c) have the same number of parameters; (b) has A (2H + 1) more",
                e.models[0].parameters == e.models[2].parameters &&
                    e.models[1].parameters == e.models[0].parameters + e.config.A * (2 * e.config.H + 1));
  return checks;
}

// ---- --load DIR ------------------------------------------------------------------------------------------

// What the backward of these files needs: the forward's and backward's (L, H) matrices and the
// weights' gradients; the work of 2 L H (H_in + H) multiply-adds forward, 3 times that backward, a tanh
// per state, and at most 64 printed numbers per result.
Cost rnn_files_cost(double L, double H_in, double H) {
  return {8.0 * (8.0 * L * (H + H_in) + 4.0 * H * (H + H_in)),
          8.0 * L * H * (H_in + H) + L * H * (math_call + 6.0 * fresh_double) + 8.0 * 64.0 * printed_number};
}

// torch.nn.RNN's files plus grad_output.
struct LoadedRnn {
  RnnResult forward;       // output (L, H), h_n (1, H)
  RnnGradients gradients;  // of input, h0 and the four weights
};

LoadedRnn compute_loaded(const std::string& dir) {
  // The shared loaders refuse empty arrays, NaN, infinities and values above 1e15 (npy.hpp).
  const RnnFiles f = load_rnn(dir);
  const std::size_t L = f.input.shape(0), H_in = f.input.shape(1), H = f.h0.shape(1);
  const Matrix grad_output = load_matrix(dir, "grad_output", "(L, H)");
  require_shape("grad_output.npy", grad_output, {L, H}, "(L, H), the shape of the output");
  require_no_unread_files(dir,
                          {"output", "h_n", "input.grad", "h0.grad", "weight_ih_l0.grad", "weight_hh_l0.grad",
                           "bias_ih_l0.grad", "bias_hh_l0.grad"},
                          "torch.nn.RNN's files");
  require_within_limits(rnn_files_cost(L, H_in, H),
                        fmt::format("the backward of an RNN with L = {}, H_in = {}, H = {}", L, H_in, H));
  LoadedRnn r;
  r.forward = rnn_forward(f.input, f.weights, f.h0);
  r.gradients = rnn_backward(f.input, f.weights, f.h0, r.forward.output, grad_output,
                             Matrix(xt::zeros<double>({std::size_t{1}, H})));
  return r;
}

int run_loaded(const Options& opt) {
  const LoadedRnn r = compute_loaded(opt.common.load_dir);
  const RnnGradients& g = r.gradients;
  print_title(fmt::format("Chapter 15 · RNN backward (BPTT) on {}", opt.common.load_dir));
  report_results(
      {shown_result("output", r.forward.output), named_result("h_n", r.forward.h_n),
       shown_result("input.grad", g.input), shown_result("h0.grad", g.h0),
       shown_result("weight_ih_l0.grad", g.weight_ih_l0), shown_result("weight_hh_l0.grad", g.weight_hh_l0),
       named_result("bias_ih_l0.grad", g.bias_ih_l0,
                    [&g] { print_vector("bias_ih_l0.grad (= bias_hh_l0.grad)", g.bias_ih_l0); }),
       named_result("bias_hh_l0.grad", g.bias_hh_l0)},
      opt.common.save_dir);
  print_section("Self-checks");
  SelfChecks checks;
  bool bounded = true;
  for (double h : r.forward.output) bounded = bounded && std::abs(h) <= 1.0;
  checks.expect("every hidden state lies in [-1, 1] (tanh)", bounded);
  checks.expect("db_ih = db_hh, exactly (both are added to every step's a_t)",
                max_abs_diff(g.bias_ih_l0, g.bias_hh_l0) == 0.0);
  return checks.exit_code();
}

int run(const Options& opt) {
  if (!opt.common.load_dir.empty()) return run_loaded(opt);
  require_load_for_save(opt.common);
  require_within_limits(cost_of(opt), "this run", opt.full ? training_limits : chapter_limits);
  print_title("Chapter 15 · From RNN to attention, learned");
  print_config("task", fmt::format("reverse strings of 1..{} digits (--max-len){}", opt.max_len,
                                   opt.full ? ", the docs' full experiment (--full)" : ""));
  print_config(
      "models",
      fmt::format("H = {} (--hidden), {} steps (--train-steps) of {} strings (--batch), lr {} (--lr)",
                  opt.hidden, opt.train_steps, opt.batch, opt.lr));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  const PoolingExample pool = compute_pooling(rng);
  const ScoringExample scoring = compute_scoring(rng);
  const BpttExample bptt = compute_bptt(rng);
  const Experiment experiment = compute_experiment(opt);
  show_pooling(pool);
  show_scoring(scoring);
  show_bptt(bptt);
  show_experiment(experiment);
  Figures figures(opt.common);
  draw(pool, bptt, experiment, figures);
  const SelfChecks checks = self_checks(pool, scoring, bptt, experiment);
  figures.report();
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 15: from RNN to attention, learned", "ch15_rnn_to_attention"};
  Options opt;
  std::vector<CLI::Option*> sizes;  // the flags --full sets
  sizes.push_back(add_size_option(app, "--max-len", opt.max_len,
                                  "Train on strings of 1..N digits, test on each length", 1, kMaxLength,
                                  fmt::format("the task generator makes at most {} digits", kMaxLength)));
  CLI::Option* hidden =
      add_size_option(app, "--hidden", opt.hidden, "Hidden size H of every RNN (with --full too)",
                      largest_within_limits(&Options::hidden, cost_of));
  sizes.push_back(add_size_option(app, "--train-steps", opt.train_steps,
                                  "Optimiser steps, the same for each model",
                                  largest_within_limits(&Options::train_steps, cost_of)));
  sizes.push_back(add_size_option(app, "--batch", opt.batch, "Strings per step",
                                  largest_within_limits(&Options::batch, cost_of)));
  sizes.push_back(app.add_option("--lr", opt.lr, "AdamW's learning rate, the same for each model (0, 1]")
                      ->check(positive_up_to(1.0))
                      ->capture_default_str());
  app.add_flag("--full", opt.full,
               "The docs' full experiment: --max-len 12 --hidden 32 --train-steps 3000 --batch 32 (about a "
               "minute of CPU time); --hidden H changes H only");
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] {
    if (opt.full) {
      for (CLI::Option* o : sizes)
        if (o->count() > 0)
          throw usage_error(fmt::format("--full sets its own sizes; leave out {}", o->get_name()));
      apply_full(opt, hidden->count() > 0);
    }
    return run(opt);
  });
}

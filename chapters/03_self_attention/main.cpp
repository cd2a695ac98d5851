// Chapter 03 — self-attention: queries, keys and values from one sequence through W_q, W_k, W_v; the
// attention matrix as a heatmap; and permutation equivariance (shuffle the tokens, and the outputs
// shuffle the same way).
//
//   build/bin/ch03_self_attention [--d-model D] [--d-k K] [--seed S] [--svg DIR] [--no-color]
//
// Each section computes into a named result (compute_*), then prints and draws it (show_*); the
// closing self_checks() read those results and nothing else.
#include "03_self_attention/contract.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "print.hpp"
#include "rng.hpp"

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int d_model = 6;  // width of each token's embedding
  int d_k = 4;      // width of queries and keys (and values here)
};

const Labels kTokens = {"小明", "喜欢", "去", "公园", "散步"};

// The position of `word` in kTokens.
std::size_t position_of(const std::string& word) {
  for (std::size_t i = 0; i < kTokens.size(); ++i)
    if (kTokens[i] == word) return i;
  throw std::logic_error("not a token of the sequence: " + word);
}

// What a run needs, estimated from its sizes before it starts (the cost constants are in cli.hpp).
// Alive at the peak: X (n, d_model), the three weights (d_model, d_k), and Q, K, V and the two outputs
// (n, d_k) each; the (n, n) weights are tiny. The work: drawing X and the weights into fresh memory,
// and the (n, d_model) x (d_model, d_k) products (three shown, three in each of the two
// self_attention calls), which stream the weights from memory.
Cost cost_of(const Options& opt) {
  const double n = static_cast<double>(kTokens.size()), D = opt.d_model, K = opt.d_k;
  return {8.0 * (n * D + 3.0 * D * K + 5.0 * n * K),
          (n * D + 3.0 * D * K) * (normal_draw + fresh_double) + 9.0 * n * D * K * streamed_multiply_add};
}

// The flags, each setting a field of Options (the sizes up to what fits the limits, cost_of).
void add_flags(CLI::App& app, Options& opt) {
  add_size_flag(app, "--d-model", opt, &Options::d_model, "Width of each token's embedding", cost_of);
  add_size_flag(app, "--d-k", opt, &Options::d_k, "Width of queries, keys and values", cost_of);
  add_common_options(app, opt.common, /*interop=*/false);
}

// print_matrix with two decimals and columns named prefix0, prefix1, ...; a matrix wider than
// kMaxColumns (large --d-model or --d-k) shows only its first kMaxColumns columns and says so.
constexpr std::size_t kMaxColumns = 12;
void print_first_columns(const std::string& label, const Matrix& m, const Labels& rows, const char* prefix) {
  if (m.shape(1) <= kMaxColumns) {
    print_matrix(label, m, rows, numbered(prefix, m.shape(1)), 2);
    return;
  }
  const Matrix first = xt::view(m, xt::all(), xt::range(0, kMaxColumns));
  print_matrix(fmt::format("{}, first {} of {} columns", label, kMaxColumns, m.shape(1)), first, rows,
               numbered(prefix, kMaxColumns), 2);
}

// 1. One sequence and the three weight matrices of a self-attention layer.
struct Setup {
  Matrix x;              // (n, d_model): one embedding per token, drawn N(0, 1)
  Matrix w_q, w_k, w_v;  // (d_model, d_k) each, drawn N(0, 1/d_model)
};

// One (rows, cols) weight drawn N(0, 1/rows), scaled in place so that only one copy is ever alive.
Matrix draw_weight(Rng& rng, std::size_t rows, std::size_t cols) {
  Matrix w = rng.normal_matrix(rows, cols);
  w *= 1.0 / std::sqrt(static_cast<double>(rows));
  return w;
}

// Weights drawn N(0, 1/d_model), the usual initialisation: an entry of X W is a sum of d_model
// products of variance 1/d_model, so Q, K, V have entries of about the size of X's.
Setup compute_setup(const Options& opt, Rng& rng) {
  const std::size_t n = kTokens.size(), D = opt.d_model, K = opt.d_k;
  Setup s;
  s.x = rng.normal_matrix(n, D);
  // drawn one after the other: W_q, then W_k, then W_v
  s.w_q = draw_weight(rng, D, K);
  s.w_k = draw_weight(rng, D, K);
  s.w_v = draw_weight(rng, D, K);
  return s;
}

void show_setup(const Setup& s) {
  const std::size_t D = s.w_q.shape(0), K = s.w_q.shape(1);
  print_section("1. One sequence, three learned views of it");
  print_first_columns("X: one embedding per token", s.x, kTokens, "d");
  fmt::print("W_q, W_k, W_v: three ({}, {}) matrices drawn N(0, 1/d_model); learned in a real model\n", D, K);
  fmt::print("parameters: 3 x {} x {} = {}, whatever the length of the sequence\n", D, K, 3 * D * K);
}

// 2. Q, K, V and the attention of the sequence with itself:
//      Q = X W_q, K = X W_k, V = X W_v          (n, d_k) each
//      weights = softmax(Q K^T / sqrt(d_k))     (n, n)
//      output = weights V                       (n, d_k)
struct AttentionSection {
  Matrix q, k, v;             // (n, d_k) each, shown; self_attention computes them again inside
  AttentionResult attention;  // self_attention(X, W_q, W_k, W_v)
};

AttentionSection compute_attention(const Setup& s) {
  AttentionSection a;
  a.q = matmul(s.x, s.w_q);
  a.k = matmul(s.x, s.w_k);
  a.v = matmul(s.x, s.w_v);
  a.attention = self_attention(s.x, s.w_q, s.w_k, s.w_v);
  return a;
}

void show_attention(const AttentionSection& a, Figures& figures) {
  const Matrix& weights = a.attention.weights;
  print_section("2. Q = X W_q,  K = X W_k,  V = X W_v,  then attention as in chapter 02");
  print_first_columns("Q = X W_q: what each token looks for", a.q, kTokens, "c");
  print_first_columns("K = X W_k: what each token offers", a.k, kTokens, "c");
  print_first_columns("V = X W_v: what each token passes on", a.v, kTokens, "c");
  print_heatmap("weights = softmax(Q K^T / sqrt(d_k)): row = query token, column = key token", weights,
                kTokens, kTokens);
  print_first_columns("output = weights V: each token's new representation", a.attention.output, kTokens,
                      "c");
  fmt::print(
      "The matrix is not symmetric: 小明 takes {:.2f} from 公园 (小明's query against 公园's key),\n"
      "公园 takes {:.2f} from 小明 (公园's query against 小明's key).\n",
      weights(position_of("小明"), position_of("公园")), weights(position_of("公园"), position_of("小明")));
  figures.heatmap("03-weights.svg", weights,
                  heatmap_spec("Self-attention weights on 小明 喜欢 去 公园 散步 (random W_q, W_k)", kTokens,
                               kTokens, "query token", "key token"));
}

// 3. Shuffle the tokens with a permutation matrix P (row i of P X is row perm[i] of X): the outputs
//    are the same rows, shuffled the same way, and the weights are the same numbers with rows and
//    columns relabelled:
//      output(P X) = P output(X),   weights(P X) = P A P^T, i.e. (P A P^T)[i][j] = A[perm[i]][perm[j]]
struct EquivarianceResult {
  std::vector<std::size_t> perm;  // (n): a random permutation of 0..n-1
  Labels shuffled;                // the tokens in the new order
  AttentionResult attention;      // self_attention(P X, W_q, W_k, W_v)
  double output_error;            // max |output(P X) - P output(X)|
  double weights_error;           // max |weights(P X) - P A P^T|
};

EquivarianceResult compute_equivariance(const Setup& s, const AttentionResult& original, Rng& rng) {
  EquivarianceResult e;
  e.perm = rng.permutation(kTokens.size());
  for (std::size_t i : e.perm) e.shuffled.push_back(kTokens[i]);
  e.attention = self_attention(permute_rows(s.x, e.perm), s.w_q, s.w_k, s.w_v);
  Matrix pap = original.weights;  // P A P^T: the same weights, rows and columns relabelled
  for (std::size_t i = 0; i < e.perm.size(); ++i)
    for (std::size_t j = 0; j < e.perm.size(); ++j) pap(i, j) = original.weights(e.perm[i], e.perm[j]);
  e.output_error = max_abs_diff(e.attention.output, permute_rows(original.output, e.perm));
  e.weights_error = max_abs_diff(e.attention.weights, pap);
  return e;
}

// The labels in order, each followed by `separator`: ("a", "b") with " " gives "a b ", with "" gives "ab".
std::string joined(const Labels& labels, const std::string& separator) {
  std::string text;
  for (const std::string& label : labels) text += label + separator;
  return text;
}

void show_equivariance(const EquivarianceResult& e, Figures& figures) {
  print_section("3. Shuffle the tokens, and the outputs shuffle the same way");
  fmt::print("new order: {}(row i of P X is row perm[i] of X)\n", joined(e.shuffled, " "));
  print_heatmap("weights of the shuffled sequence", e.attention.weights, e.shuffled, e.shuffled);
  print_first_columns("output of the shuffled sequence", e.attention.output, e.shuffled, "c");
  fmt::print("max |output(P X) - P output(X)| = {:.1e};  max |weights(P X) - P A P^T| = {:.1e}\n",
             e.output_error, e.weights_error);
  fmt::print(
      "Each token gets the same output wherever it stands: self-attention alone cannot tell\n"
      "{} from {}. Chapter 07 adds positions to fix that.\n",
      joined(kTokens, ""), joined(e.shuffled, ""));
  figures.heatmap("03-weights-shuffled.svg", e.attention.weights,
                  heatmap_spec("The same tokens shuffled: the same numbers, rows and columns moved",
                               e.shuffled, e.shuffled, "query token", "key token"));
}

// The closing self-checks: every claim of the walkthrough, from the numbers it computed.
int self_checks(const Setup& s, const AttentionSection& a, const EquivarianceResult& e) {
  print_section("Self-checks");
  SelfChecks checks;
  const Matrix& output = a.attention.output;
  checks.close("rows sum to 1", max_row_sum_error(a.attention.weights), 1e-12);
  checks.close("output(P X) = P output(X)", e.output_error, 1e-12);
  checks.close("weights(P X) = P A P^T", e.weights_error, 1e-12);
  checks.expect("output shape (n, d_v)", output.shape(0) == s.x.shape(0) && output.shape(1) == s.w_v.shape(1),
                shape_of(output));
  return checks.exit_code();
}

int run(const Options& opt) {
  require_within_limits(cost_of(opt), fmt::format("--d-model {} --d-k {}", opt.d_model, opt.d_k));
  print_title("Chapter 03 · Self-attention");
  print_config("tokens", "小明 喜欢 去 公园 散步 (5)");
  print_config("sizes",
               fmt::format("d_model = {} (--d-model), d_k = d_v = {} (--d-k)", opt.d_model, opt.d_k));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  Figures figures(opt.common);
  const Setup setup = compute_setup(opt, rng);
  show_setup(setup);
  const AttentionSection attention = compute_attention(setup);
  show_attention(attention, figures);
  const EquivarianceResult shuffled = compute_equivariance(setup, attention.attention, rng);
  show_equivariance(shuffled, figures);

  const int status = self_checks(setup, attention, shuffled);
  figures.report();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 03: self-attention, and why it is blind to word order", "ch03_self_attention"};
  Options opt;
  add_flags(app, opt);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

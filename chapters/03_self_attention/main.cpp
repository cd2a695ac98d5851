// Chapter 03 — self-attention: queries, keys and values from one sequence through W_q, W_k, W_v; the
// attention matrix as a heatmap; and permutation equivariance (shuffle the tokens, and the outputs
// shuffle the same way).
//
//   build/bin/ch03_self_attention [--d-model D] [--d-k K] [--seed S] [--svg DIR] [--no-color]
#include "cli.hpp"
#include "contracts/03_self_attention.hpp"
#include "print.hpp"
#include "rng.hpp"
#include "svg.hpp"

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int d_model = 6;  // width of each token's embedding
  int d_k = 4;      // width of queries and keys (and values here)
};

const Labels kTokens = {"小明", "喜欢", "去", "公园", "散步"};

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

// print_matrix with two decimals and columns named prefix0, prefix1, ...; a matrix wider than
// kMaxColumns (large --d-model or --d-k) shows only its first kMaxColumns columns and says so.
constexpr std::size_t kMaxColumns = 12;
void show_matrix(const std::string& label, const Matrix& m, const Labels& rows, const char* prefix) {
  if (m.shape(1) <= kMaxColumns) {
    print_matrix(label, m, rows, numbered(prefix, m.shape(1)), 2);
    return;
  }
  const Matrix first = xt::view(m, xt::all(), xt::range(0, kMaxColumns));
  print_matrix(fmt::format("{}, first {} of {} columns", label, kMaxColumns, m.shape(1)), first, rows,
               numbered(prefix, kMaxColumns), 2);
}

struct Layer {
  Matrix w_q, w_k, w_v;  // (d_model, d_k) each
};

// One (rows, cols) weight drawn N(0, 1/rows), scaled in place so that only one copy is ever alive.
Matrix draw_weight(Rng& rng, std::size_t rows, std::size_t cols) {
  Matrix w = rng.normal_matrix(rows, cols);
  w *= 1.0 / std::sqrt(static_cast<double>(rows));
  return w;
}

// 1. The input and the three weight matrices. Weights are drawn N(0, 1/d_model), the usual
//    initialisation, so that Q, K, V have entries of about the size of X's.
Layer show_setup(const Options& opt, Rng& rng, Matrix& x) {
  print_section("1. One sequence, three learned views of it");
  const std::size_t n = kTokens.size(), D = opt.d_model, K = opt.d_k;
  x = rng.normal_matrix(n, D);
  show_matrix("X: one embedding per token", x, kTokens, "d");
  Layer w;  // drawn one after the other: W_q, then W_k, then W_v
  w.w_q = draw_weight(rng, D, K);
  w.w_k = draw_weight(rng, D, K);
  w.w_v = draw_weight(rng, D, K);
  fmt::print("W_q, W_k, W_v: three ({}, {}) matrices drawn N(0, 1/d_model); learned in a real model\n", D, K);
  fmt::print("parameters: 3 x {} x {} = {}, whatever the length of the sequence\n", D, K, 3 * D * K);
  return w;
}

// 2. Q, K, V and the attention of the sequence with itself.
AttentionResult show_attention(const Matrix& x, const Layer& w) {
  print_section("2. Q = X W_q,  K = X W_k,  V = X W_v,  then attention as in chapter 02");
  show_matrix("Q = X W_q: what each token looks for", matmul(x, w.w_q), kTokens, "c");
  show_matrix("K = X W_k: what each token offers", matmul(x, w.w_k), kTokens, "c");
  show_matrix("V = X W_v: what each token passes on", matmul(x, w.w_v), kTokens, "c");
  const AttentionResult r = self_attention(x, w.w_q, w.w_k, w.w_v);
  print_heatmap("weights = softmax(Q K^T / sqrt(d_k)): row = query token, column = key token", r.weights,
                kTokens, kTokens);
  show_matrix("output = weights V: each token's new representation", r.output, kTokens, "c");
  fmt::print(
      "The matrix is not symmetric: 小明 takes {:.2f} from 公园 (小明's query against 公园's key),\n"
      "公园 takes {:.2f} from 小明 (公园's query against 小明's key).\n",
      r.weights(0, 3), r.weights(3, 0));
  return r;
}

struct Shuffled {
  double output_error = 0, weights_error = 0;
};

// 3. Shuffle the tokens: the outputs are the same rows, shuffled the same way.
Shuffled show_equivariance(const Options& opt, const Matrix& x, const Layer& w, const AttentionResult& r,
                           Rng& rng) {
  print_section("3. Shuffle the tokens, and the outputs shuffle the same way");
  const std::vector<std::size_t> perm = rng.permutation(kTokens.size());
  Labels shuffled;
  for (std::size_t i : perm) shuffled.push_back(kTokens[i]);
  std::string order;
  for (const std::string& t : shuffled) order += t + " ";
  fmt::print("new order: {}(row i of P X is row perm[i] of X)\n", order);
  const AttentionResult s = self_attention(permute_rows(x, perm), w.w_q, w.w_k, w.w_v);
  print_heatmap("weights of the shuffled sequence", s.weights, shuffled, shuffled);
  show_matrix("output of the shuffled sequence", s.output, shuffled, "c");
  // P A P^T: the same weights, rows and columns relabelled
  Matrix pap = r.weights;
  for (std::size_t i = 0; i < perm.size(); ++i)
    for (std::size_t j = 0; j < perm.size(); ++j) pap(i, j) = r.weights(perm[i], perm[j]);
  Shuffled e{max_abs_diff(s.output, permute_rows(r.output, perm)), max_abs_diff(s.weights, pap)};
  fmt::print("max |output(P X) - P output(X)| = {:.1e};  max |weights(P X) - P A P^T| = {:.1e}\n",
             e.output_error, e.weights_error);
  std::string joined, shuffled_joined;
  for (const std::string& t : kTokens) joined += t;
  for (const std::string& t : shuffled) shuffled_joined += t;
  fmt::print(
      "Each token gets the same output wherever it stands: self-attention alone cannot tell\n"
      "{} from {}. Chapter 07 adds positions to fix that.\n",
      joined, shuffled_joined);
  if (!opt.common.svg_dir.empty()) {
    HeatmapSpec spec;
    spec.title = "Self-attention weights on 小明 喜欢 去 公园 散步 (random W_q, W_k)";
    spec.rows = kTokens;
    spec.cols = kTokens;
    spec.row_axis = "query token";
    spec.col_axis = "key token";
    write_heatmap_svg(opt.common.svg_dir, "03-weights.svg", r.weights, spec);
    spec.title = "The same tokens shuffled: the same numbers, rows and columns moved";
    spec.rows = shuffled;
    spec.cols = shuffled;
    write_heatmap_svg(opt.common.svg_dir, "03-weights-shuffled.svg", s.weights, spec);
  }
  return e;
}

int run(const Options& opt) {
  require_within_limits(cost_of(opt), fmt::format("--d-model {} --d-k {}", opt.d_model, opt.d_k));
  print_title("Chapter 03 · Self-attention");
  print_config("tokens", "小明 喜欢 去 公园 散步 (5)");
  print_config("sizes",
               fmt::format("d_model = {} (--d-model), d_k = d_v = {} (--d-k)", opt.d_model, opt.d_k));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  Matrix x;
  const Layer w = show_setup(opt, rng, x);
  const AttentionResult r = show_attention(x, w);
  const Shuffled e = show_equivariance(opt, x, w, r, rng);

  print_section("Self-checks");
  SelfChecks checks;
  const Vector sums = xt::sum(r.weights, {1});
  checks.close("rows sum to 1", max_abs_diff(sums, Vector(xt::ones<double>({sums.size()}))), 1e-12);
  checks.close("output(P X) = P output(X)", e.output_error, 1e-12);
  checks.close("weights(P X) = P A P^T", e.weights_error, 1e-12);
  checks.expect("output shape (n, d_v)",
                r.output.shape(0) == kTokens.size() && r.output.shape(1) == static_cast<std::size_t>(opt.d_k),
                shape_of(r.output));
  if (!opt.common.svg_dir.empty())
    fmt::print("wrote 03-weights.svg and 03-weights-shuffled.svg to {}\n", opt.common.svg_dir);
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 03: self-attention, and why it is blind to word order", "ch03_self_attention"};
  Options opt;
  add_size_option(app, "--d-model", opt.d_model, "Width of each token's embedding",
                  largest_within_limits(&Options::d_model, cost_of));
  add_size_option(app, "--d-k", opt.d_k, "Width of queries, keys and values",
                  largest_within_limits(&Options::d_k, cost_of));
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

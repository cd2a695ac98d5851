// Chapter 06 — cross-attention: queries from one sequence (a Chinese target being written), keys and
// values from another of a different length (the English source). Self vs cross and single vs
// multi-head are two independent choices: the program computes all four combinations.
//
//   build/bin/ch06_cross_attention [--heads H] [--seed S] [--svg DIR] [--no-color]
//
// Sections: 1. the two sequences, 2. cross-attention between them, 3. the four combinations of
// self/cross and one/H heads, 4. reordering the source. Each section computes into a struct
// (compute_*), then prints and draws from it (show_*); self_checks() checks the claims from those
// structs; run() calls them in order.
#include "03_self_attention/contract.hpp"
#include "05_multi_head_attention/given.hpp"
#include "06_cross_attention/contract.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "print.hpp"
#include "rng.hpp"

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int heads = 2;  // for the multi-head half of the 2 x 2
};

// Six meaning features, shared by both languages (a toy stand-in for what an encoder learns).
const Labels kFeatures = {"speaker", "like", "walk", "location", "park", "grammar"};
const Labels kSource = {"I", "like", "to", "walk", "in", "the", "park"};
const Labels kTarget = {"我", "喜欢", "在", "公园", "散步"};
// The English word each Chinese word of kTarget translates.
const Labels kTranslation = {"I", "like", "in", "park", "walk"};

// The source, English, S = 7 tokens (S, 6): what each word means.
Matrix source_embeddings() {
  return {/* I    */ {1, 0, 0, 0, 0, 0},
          /* like */ {0, 1, 0, 0, 0, 0},
          /* to   */ {0, 0, 0.3, 0, 0, 1},
          /* walk */ {0, 0, 1, 0, 0, 0},
          /* in   */ {0, 0, 0, 1, 0, 0.3},
          /* the  */ {0, 0, 0, 0, 0.3, 1},
          /* park */ {0, 0, 0, 0, 1, 0}};
}

// The target, Chinese, L = 5 tokens (L, 6): 我 喜欢 在 公园 散步 — "walk" comes last in Chinese.
Matrix target_embeddings() {
  return {/* 我   */ {1, 0, 0, 0, 0, 0},
          /* 喜欢 */ {0, 1, 0, 0, 0, 0},
          /* 在   */ {0, 0, 0, 1, 0, 0},
          /* 公园 */ {0, 0, 0, 0, 1, 0},
          /* 散步 */ {0, 0, 1, 0, 0, 0}};
}

// 1. The two sequences (nothing to compute: they are given above).
void show_sequences(const Matrix& src, const Matrix& tgt) {
  print_section("1. Two sequences of different lengths");
  print_matrix("source x_kv (English, S = 7): what the encoder has read", src, kSource, kFeatures, 1);
  print_matrix("target x_q (Chinese, L = 5): what the decoder is writing", tgt, kTarget, kFeatures, 1);
}

// 2. Cross-attention: each Chinese word looks for the English words it translates.
//   W_q = W_k = 3 I (6, 6): score(i, j) = Q_i . K_j / sqrt(6) = 9 x_q[i] . x_kv[j] / sqrt(6), largest
//   on the source word that shares the query's meaning; W_v = I passes the meanings on.
//   cross_attention(x_q (5, 6), x_kv (7, 6)) -> weights (L, S) = (5, 7), output (5, 6)
AttentionResult matching_cross_attention(const Matrix& tgt, const Matrix& src) {
  const Matrix w_qk = 3.0 * Matrix(xt::eye<double>(6));
  const Matrix w_v = xt::eye<double>(6);
  return cross_attention(tgt, src, w_qk, w_qk, w_v);
}

void show_cross(const AttentionResult& cross, Figures& figures) {
  print_section("2. Cross-attention: queries from the target, keys and values from the source");
  fmt::print(
      "W_q = W_k = 3 I (6, 6), W_v = I: Q = x_q W_q (5, 6), K = x_kv W_k (7, 6), V = x_kv W_v (7, 6)\n");
  print_heatmap("weights (L, S) = (5, 7): row = Chinese word asking, column = English word read",
                cross.weights, kTarget, kSource);
  print_matrix("output (L, d_v) = (5, 6): one row per Chinese word, made of English content", cross.output,
               kTarget, kFeatures, 2);
  fmt::print(
      "The weight matrix is 5 x 7, not square: one row per query, one column per key. Each Chinese\n"
      "word finds its English counterpart wherever it stands — 散步 (last) reads 'walk' (fourth).\n");
  figures.heatmap(
      "06-cross-weights.svg", cross.weights,
      heatmap_spec("Cross-attention: 我喜欢在公园散步 reading 'I like to walk in the park'", kTarget, kSource,
                   "query: target word (Chinese)", "key: source word (English)"));
}

// 3. Self vs cross and single vs multi-head: the four combinations, all computed with the same
// random weights (uniform in [-1/sqrt(E), 1/sqrt(E)), E = 6), x = the target, y = the source.
struct GridResult {
  std::size_t heads = 0;
  AttentionResult single_self;            // self_attention(x): output (5, 6), weights (5, 5)
  AttentionResult single_self_via_cross;  // cross_attention(x, x): the same
  AttentionResult single_cross;           // cross_attention(x, y): output (5, 6), weights (5, 7)
  MultiHeadResult multi_self;             // multi_head_attention(x, x, x): weights (H, 5, 5)
  MultiHeadResult multi_cross;            // multi_head_attention(x, y, y): weights (H, 5, 7)
  double self_vs_cross = 0;               // max |cross_attention(x, x) - self_attention(x)|
};

GridResult compute_grid(const Options& opt, const Matrix& src, const Matrix& tgt, Rng& rng) {
  const std::size_t E = 6, L = tgt.shape(0), S = src.shape(0);
  const double a = 1.0 / std::sqrt(static_cast<double>(E));
  const Matrix w_q = rng.uniform_matrix(E, E, -a, a);
  const Matrix w_k = rng.uniform_matrix(E, E, -a, a);
  const Matrix w_v = rng.uniform_matrix(E, E, -a, a);
  const MultiHeadWeights multi = random_multi_head_weights(rng, E);
  GridResult g;
  g.heads = opt.heads;
  g.single_self = self_attention(tgt, w_q, w_k, w_v);
  g.single_self_via_cross = cross_attention(tgt, tgt, w_q, w_k, w_v);
  g.single_cross = cross_attention(tgt, src, w_q, w_k, w_v);
  g.multi_self = multi_head_attention(tgt, tgt, tgt, multi, g.heads, no_mask(L, L));
  g.multi_cross = multi_head_attention(tgt, src, src, multi, g.heads, no_mask(L, S));
  g.self_vs_cross = std::max(max_abs_diff(g.single_self.output, g.single_self_via_cross.output),
                             max_abs_diff(g.single_self.weights, g.single_self_via_cross.weights));
  return g;
}

// "out (5, 6) weights (5, 7)"
template <class Result>
std::string shapes(const Result& r) {
  return fmt::format("out {} weights {}", shape_of(r.output), shape_of(r.weights));
}

void show_grid(const GridResult& g) {
  print_section("3. Two independent choices: where Q, K, V come from, and how many heads");
  fmt::print(
      "x = the Chinese target, y = the English source. Each column uses one set of random weights for\n"
      "both rows (W_q, W_k, W_v for one head; a MultiheadAttention's weights for {} heads).\n\n",
      g.heads);
  fmt::print("{:<22} {:<34} {}\n", "", "one head", fmt::format("{} heads (chapter 05)", g.heads));
  fmt::print("{:<22} {:<34} {}\n", "self: Q, K, V from x", shapes(g.single_self), shapes(g.multi_self));
  fmt::print("{:<22} {:<34} {}\n", "cross: Q from x, K V y", shapes(g.single_cross), shapes(g.multi_cross));
  fmt::print(
      "\nThe row decides where Q, K and V come from (one sequence or two): L x S weights, S = L for\n"
      "self-attention. The column decides how many attentions run side by side: one (L, S) matrix\n"
      "or H of them. Every cell exists — a decoder layer uses multi-head self-attention and then\n"
      "multi-head cross-attention. cross_attention(x, x) is self_attention(x): max difference {:.1e}.\n",
      g.self_vs_cross);
}

// 4. The source is a set: reversing it (P x_kv, P the reversal) moves the weights' columns and leaves
// the output: softmax(Q (P K)^T) (P V) = softmax(Q K^T) P^T P V = the same, since P^T P = I.
struct ReorderResult {
  AttentionResult attention;  // section 2's cross-attention on the reversed source
  double output_change = 0;   // max |output - section 2's output|
};

ReorderResult compute_reorder(const Matrix& src, const Matrix& tgt, const AttentionResult& before) {
  const Matrix reversed = permute_rows(src, {6, 5, 4, 3, 2, 1, 0});
  ReorderResult r;
  r.attention = matching_cross_attention(tgt, reversed);
  r.output_change = max_abs_diff(r.attention.output, before.output);
  return r;
}

void show_reorder(const ReorderResult& r) {
  print_section("4. Reorder the source: the same output");
  fmt::print("source reversed: 'park the in walk to like I'. max |output - output before| = {:.1e}\n",
             r.output_change);
  fmt::print(
      "Each query takes a weighted sum over the source, and a sum does not care about order: without\n"
      "positional encodings (chapter 07) the decoder reads the source as a bag of words.\n");
}

// The closing self-checks: every claim of the walkthrough, from the numbers it computed.
int self_checks(const AttentionResult& cross, const GridResult& grid, const ReorderResult& reorder) {
  print_section("Self-checks");
  SelfChecks checks;
  const std::size_t L = kTarget.size(), S = kSource.size();
  const Vector sums = xt::sum(cross.weights, {1});
  checks.close("rows sum to 1", max_abs_diff(sums, Vector(xt::ones<double>({sums.size()}))), 1e-12);
  checks.expect("weights are (L, S) = (5, 7)", cross.weights.shape(0) == L && cross.weights.shape(1) == S,
                shape_of(cross.weights));
  // Each Chinese word's largest weight is on its translation.
  bool aligned = true;
  for (std::size_t i = 0; i < L; ++i) {
    std::size_t best = 0;
    for (std::size_t j = 1; j < S; ++j)
      if (cross.weights(i, j) > cross.weights(i, best)) best = j;
    aligned = aligned && kSource[best] == kTranslation[i];
  }
  checks.expect("each Chinese word attends most to its English translation", aligned);
  checks.close("cross_attention(x, x) = self_attention(x)", grid.self_vs_cross, 1e-15);
  const bool shapes_ok = grid.single_cross.weights.shape(1) == S &&
                         grid.multi_cross.weights.shape(0) == grid.heads &&
                         grid.multi_cross.weights.shape(2) == S && grid.multi_self.weights.shape(2) == L;
  checks.expect("all four combinations have the expected shapes", shapes_ok);
  checks.close("reordering the source leaves the output", reorder.output_change, 1e-12);
  return checks.exit_code();
}

int run(const Options& opt) {
  if (6 % opt.heads != 0) throw usage_error(fmt::format("--heads {} does not divide d_model = 6", opt.heads));
  print_title("Chapter 06 · Cross-attention");
  print_config("source", "I like to walk in the park (S = 7, English)");
  print_config("target", "我 喜欢 在 公园 散步 (L = 5, Chinese)");
  print_config("sizes", fmt::format("d_model = 6 hand-made meaning features; {} heads in section 3 (--heads)",
                                    opt.heads));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  Figures figures(opt.common);
  const Matrix src = source_embeddings(), tgt = target_embeddings();
  show_sequences(src, tgt);
  const AttentionResult cross = matching_cross_attention(tgt, src);
  show_cross(cross, figures);
  const GridResult grid = compute_grid(opt, src, tgt, rng);
  show_grid(grid);
  const ReorderResult reorder = compute_reorder(src, tgt, cross);
  show_reorder(reorder);
  const int status = self_checks(cross, grid, reorder);
  figures.report();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 06: cross-attention between a Chinese target and an English source",
               "ch06_cross_attention"};
  Options opt;
  add_size_option(app, "--heads", opt.heads, "Heads for the multi-head cells (1, 2, 3 or 6)", 6);
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

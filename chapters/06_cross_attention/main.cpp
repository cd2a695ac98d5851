// Chapter 06 — cross-attention: queries from one sequence (a Chinese target being written), keys and
// values from another of a different length (the English source). Self vs cross and single vs
// multi-head are two independent choices: the program computes all four combinations.
//
//   build/bin/ch06_cross_attention [--heads H] [--seed S] [--svg DIR] [--no-color]
#include "cli.hpp"
#include "contracts/03_self_attention.hpp"
#include "contracts/06_cross_attention.hpp"
#include "given/05_multi_head_attention.hpp"
#include "print.hpp"
#include "rng.hpp"
#include "svg.hpp"

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

// 1. The two sequences.
void show_sequences(const Matrix& src, const Matrix& tgt) {
  print_section("1. Two sequences of different lengths");
  print_matrix("source x_kv (English, S = 7): what the encoder has read", src, kSource, kFeatures, 1);
  print_matrix("target x_q (Chinese, L = 5): what the decoder is writing", tgt, kTarget, kFeatures, 1);
}

// 2. Cross-attention: each Chinese word looks for the English words it translates.
AttentionResult show_cross(const Options& opt, const Matrix& src, const Matrix& tgt) {
  print_section("2. Cross-attention: queries from the target, keys and values from the source");
  // W_q = W_k = 3 I: a query matches the source word with the same meaning; W_v = I passes meanings on.
  const Matrix w_qk = 3.0 * Matrix(xt::eye<double>(6));
  const Matrix w_v = xt::eye<double>(6);
  fmt::print(
      "W_q = W_k = 3 I (6, 6), W_v = I: Q = x_q W_q (5, 6), K = x_kv W_k (7, 6), V = x_kv W_v (7, 6)\n");
  const AttentionResult r = cross_attention(tgt, src, w_qk, w_qk, w_v);
  print_heatmap("weights (L, S) = (5, 7): row = Chinese word asking, column = English word read", r.weights,
                kTarget, kSource);
  print_matrix("output (L, d_v) = (5, 6): one row per Chinese word, made of English content", r.output,
               kTarget, kFeatures, 2);
  fmt::print(
      "The weight matrix is 5 x 7, not square: one row per query, one column per key. Each Chinese\n"
      "word finds its English counterpart wherever it stands — 散步 (last) reads 'walk' (fourth).\n");
  if (!opt.common.svg_dir.empty()) {
    HeatmapSpec spec;
    spec.title = "Cross-attention: 我喜欢在公园散步 reading 'I like to walk in the park'";
    spec.rows = kTarget;
    spec.cols = kSource;
    spec.row_axis = "query: target word (Chinese)";
    spec.col_axis = "key: source word (English)";
    write_heatmap_svg(opt.common.svg_dir, "06-cross-weights.svg", r.weights, spec);
  }
  return r;
}

// 3. Self vs cross and single vs multi-head: four combinations, all computed.
struct Grid {
  double self_equals_cross = 0;  // max |cross_attention(x, x) - self_attention(x)|
  bool shapes_ok = true;
};

Grid show_grid(const Options& opt, const Matrix& src, const Matrix& tgt, Rng& rng) {
  print_section("3. Two independent choices: where Q, K, V come from, and how many heads");
  const std::size_t E = 6, H = opt.heads;
  const double a = 1.0 / std::sqrt(static_cast<double>(E));
  const Matrix w_q = rng.uniform_matrix(E, E, -a, a), w_k = rng.uniform_matrix(E, E, -a, a),
               w_v = rng.uniform_matrix(E, E, -a, a);
  const MultiHeadWeights mh = random_multi_head_weights(rng, E);
  const AttentionResult single_self = self_attention(tgt, w_q, w_k, w_v);
  const AttentionResult single_self_via_cross = cross_attention(tgt, tgt, w_q, w_k, w_v);
  const AttentionResult single_cross = cross_attention(tgt, src, w_q, w_k, w_v);
  const MultiHeadResult multi_self = multi_head_attention(tgt, tgt, tgt, mh, H, no_mask(5, 5));
  const MultiHeadResult multi_cross = multi_head_attention(tgt, src, src, mh, H, no_mask(5, 7));
  fmt::print("Same random weights throughout; x = the Chinese target, y = the English source.\n\n");
  fmt::print("{:<22} {:<34} {}\n", "", "one head", fmt::format("{} heads (chapter 05)", H));
  fmt::print("{:<22} {:<34} {}\n", "self: Q, K, V from x",
             fmt::format("out {} weights {}", shape_of(single_self.output), shape_of(single_self.weights)),
             fmt::format("out {} weights {}", shape_of(multi_self.output), shape_of(multi_self.weights)));
  fmt::print("{:<22} {:<34} {}\n", "cross: Q from x, K V y",
             fmt::format("out {} weights {}", shape_of(single_cross.output), shape_of(single_cross.weights)),
             fmt::format("out {} weights {}", shape_of(multi_cross.output), shape_of(multi_cross.weights)));
  Grid g;
  g.self_equals_cross = std::max(max_abs_diff(single_self.output, single_self_via_cross.output),
                                 max_abs_diff(single_self.weights, single_self_via_cross.weights));
  fmt::print(
      "\nThe row decides where Q, K and V come from (one sequence or two): L x S weights, S = L for\n"
      "self-attention. The column decides how many attentions run side by side: one (L, S) matrix\n"
      "or H of them. Every cell exists — a decoder layer uses multi-head self-attention and then\n"
      "multi-head cross-attention. cross_attention(x, x) is self_attention(x): max difference {:.1e}.\n",
      g.self_equals_cross);
  g.shapes_ok = single_cross.weights.shape(1) == 7 && multi_cross.weights.shape(0) == H &&
                multi_cross.weights.shape(2) == 7 && multi_self.weights.shape(2) == 5;
  return g;
}

// 4. The source is a set: reordering it changes the weights' columns, not the output.
double show_source_order(const Matrix& src, const Matrix& tgt, const AttentionResult& r) {
  print_section("4. Reorder the source: the same output");
  const std::vector<std::size_t> perm = {6, 5, 4, 3, 2, 1, 0};
  Matrix reversed = src;
  for (std::size_t i = 0; i < perm.size(); ++i)
    xt::view(reversed, i, xt::all()) = xt::view(src, perm[i], xt::all());
  const Matrix w_qk = 3.0 * Matrix(xt::eye<double>(6));
  const AttentionResult b = cross_attention(tgt, reversed, w_qk, w_qk, Matrix(xt::eye<double>(6)));
  const double diff = max_abs_diff(b.output, r.output);
  fmt::print("source reversed: 'park the in walk to like I'. max |output - output before| = {:.1e}\n", diff);
  fmt::print(
      "Each query takes a weighted sum over the source, and a sum does not care about order: without\n"
      "positional encodings (chapter 07) the decoder reads the source as a bag of words.\n");
  return diff;
}

int run(const Options& opt) {
  if (6 % opt.heads != 0) throw usage_error(fmt::format("--heads {} does not divide d_model = 6", opt.heads));
  print_title("Chapter 06 · Cross-attention");
  print_config("source", "I like to walk in the park (S = 7, English)");
  print_config("target", "我 喜欢 在 公园 散步 (L = 5, Chinese)");
  print_config("sizes", fmt::format("d_model = 6 hand-made meaning features; {} heads in section 3 (--heads)",
                                    opt.heads));
  print_config("seed", std::to_string(opt.common.seed));

  const Matrix src = source_embeddings(), tgt = target_embeddings();
  show_sequences(src, tgt);
  const AttentionResult r = show_cross(opt, src, tgt);
  Rng rng(opt.common.seed);
  const Grid g = show_grid(opt, src, tgt, rng);
  const double reorder = show_source_order(src, tgt, r);

  print_section("Self-checks");
  SelfChecks checks;
  const Vector sums = xt::sum(r.weights, {1});
  checks.close("rows sum to 1", max_abs_diff(sums, Vector(xt::ones<double>({sums.size()}))), 1e-12);
  checks.expect("weights are (L, S) = (5, 7)", r.weights.shape(0) == 5 && r.weights.shape(1) == 7,
                shape_of(r.weights));
  // Each Chinese word attends most to its translation.
  const std::vector<std::size_t> translation = {0, 1, 4, 6, 3};
  bool aligned = true;
  for (std::size_t i = 0; i < 5; ++i) {
    std::size_t best = 0;
    for (std::size_t j = 1; j < 7; ++j)
      if (r.weights(i, j) > r.weights(i, best)) best = j;
    aligned = aligned && best == translation[i];
  }
  checks.expect("each Chinese word attends most to its English translation", aligned);
  checks.close("cross_attention(x, x) = self_attention(x)", g.self_equals_cross, 1e-15);
  checks.expect("all four combinations have the expected shapes", g.shapes_ok);
  checks.close("reordering the source leaves the output", reorder, 1e-12);
  if (!opt.common.svg_dir.empty()) fmt::print("wrote 06-cross-weights.svg to {}\n", opt.common.svg_dir);
  return checks.exit_code();
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

// Chapter 04 — masking: causal and padding masks, -inf before the softmax, fully masked rows, and
// why a decoder needs the causal mask (without it, position t reads the future).
//
//   build/bin/ch04_masking [--d-model D] [--seed S] [--svg DIR] [--load DIR] [--save DIR] [--no-color]
// With --load DIR it is torch.nn.MultiheadAttention with one head (chapter 05 does several).
#include "cli.hpp"
#include "given/04_masking.hpp"
#include "print.hpp"
#include "pytorch.hpp"
#include "rng.hpp"
#include "svg.hpp"

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int d_model = 4;  // width of each token's embedding (Q = K = V = X here)
};

const Labels kTokens = {"我", "喜欢", "在", "公园", "里", "散步"};

// With Q = K = V = X, a token's score with itself, x·x / sqrt(d), grows like sqrt(d) while the others
// stay near 0: above d_model = 64 each token attends almost only to itself (at 200, row 0 no longer
// moves by 1e-6 when the last token changes), and section 2's check has nothing left to show.
constexpr int kMaxDModel = 64;

// What a run needs, estimated from its sizes before it starts: 16 rows of width d_model at most
// (x, the changed x, the padded and the left-padded sentences, Q K^T's operands); the work is drawing
// 14 embeddings and a dozen attentions over 6 tokens, about 600 multiply-adds per unit of d_model.
Cost cost_of(const Options& opt) {
  const double D = opt.d_model;
  return {8.0 * 16.0 * D, D * (14.0 * normal_draw + 600.0)};
}

// A mask as a 0/1 matrix for printing: 1 = may not attend.
Matrix as_numbers(const BoolMatrix& mask) {
  Matrix m = xt::zeros<double>(mask.shape());
  for (std::size_t i = 0; i < mask.shape(0); ++i)
    for (std::size_t j = 0; j < mask.shape(1); ++j) m(i, j) = mask(i, j) ? 1.0 : 0.0;
  return m;
}

// 1. The causal mask and what it does to the scores and the weights.
AttentionResult show_causal(const Options& opt, const Matrix& x) {
  print_section("1. The causal mask: token i may look at tokens 0..i only");
  const std::size_t n = kTokens.size();
  const BoolMatrix mask = causal_mask(n);
  print_matrix("causal_mask(6): 1 = may not attend (j > i)", as_numbers(mask), kTokens, kTokens, 0);
  const Matrix x_t = xt::transpose(x);
  Matrix scores = matmul(x, x_t) / std::sqrt(static_cast<double>(opt.d_model));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (mask(i, j)) scores(i, j) = -INFINITY;
  print_matrix("scores = Q K^T / sqrt(d_k), -inf where masked (Q = K = V = X)", scores, kTokens, kTokens, 2);
  const AttentionResult r = masked_attention(x, x, x, mask);
  print_heatmap("weights = softmax of each row: exp(-inf) = 0, the rest renormalised", r.weights, kTokens,
                kTokens);
  fmt::print(
      "Row 0 (我) can only see itself: weight 1. Each row still sums to 1 over the keys it may see.\n");
  // The wrong order: softmax without the mask, then zero the forbidden weights.
  Matrix late = masked_attention(x, x, x, no_mask(n, n)).weights;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) late(i, j) = 0.0;
  const Vector late_sums = xt::sum(late, {1});
  fmt::print(
      "Masking after the softmax instead (zeroing those weights) leaves row 我 summing to {:.4f}, not 1.\n",
      late_sums(0));
  if (!opt.common.svg_dir.empty()) {
    HeatmapSpec mask_spec;
    mask_spec.title = "causal_mask(6): 1 = may not attend (key j after query i)";
    mask_spec.rows = kTokens;
    mask_spec.cols = kTokens;
    mask_spec.row_axis = "query (position i)";
    mask_spec.col_axis = "key (position j)";
    mask_spec.decimals = 0;
    write_heatmap_svg(opt.common.svg_dir, "04-causal-mask.svg", as_numbers(mask), mask_spec);
    HeatmapSpec spec;
    spec.title = "Causal self-attention: nothing above the diagonal";
    spec.rows = kTokens;
    spec.cols = kTokens;
    spec.row_axis = "query (position i)";
    spec.col_axis = "key (position j)";
    write_heatmap_svg(opt.common.svg_dir, "04-causal-weights.svg", r.weights, spec);
  }
  return r;
}

// 2. Why a decoder needs it: change the last token and see which outputs move.
std::vector<double> show_future(const Options& opt, const Matrix& x, Rng& rng,
                                std::vector<double>& unmasked) {
  print_section("2. Why a decoder needs the mask: without it, position t reads the future");
  const std::size_t n = kTokens.size();
  Matrix changed = x;
  xt::view(changed, n - 1, xt::all()) = xt::view(rng.normal_matrix(1, opt.d_model), 0, xt::all());
  fmt::print(
      "Replace the last token (散步) by another one and recompute. A language model is trained to\n"
      "predict token t+1 from tokens 0..t; if output t changes when a later token changes, it has\n"
      "seen the answer.\n\n");
  fmt::print("{:<6} {:>28} {:>28}\n", "row t", "change without the mask", "change with the causal mask");
  std::vector<double> masked;
  const AttentionResult a0 = masked_attention(x, x, x, no_mask(n, n));
  const AttentionResult a1 = masked_attention(changed, changed, changed, no_mask(n, n));
  const AttentionResult c0 = masked_attention(x, x, x, causal_mask(n));
  const AttentionResult c1 = masked_attention(changed, changed, changed, causal_mask(n));
  for (std::size_t t = 0; t < n; ++t) {
    const double du =
        xt::amax(xt::abs(xt::view(a1.output, t, xt::all()) - xt::view(a0.output, t, xt::all())))();
    const double dm =
        xt::amax(xt::abs(xt::view(c1.output, t, xt::all()) - xt::view(c0.output, t, xt::all())))();
    unmasked.push_back(du);
    masked.push_back(dm);
    fmt::print("{} {:>28.4f} {:>28.4f}{}\n", pad_right(kTokens[t], 6), du, dm,
               t + 1 == n ? "   (the changed token itself)" : "");
  }
  fmt::print(
      "Without the mask every row moves: each position reads the future. With it, rows 0..4 do not\n"
      "move at all (exactly 0): the prediction at t depends on tokens 0..t only.\n");
  return masked;
}

// 3. Padding: two sentences of different lengths in one batch; padded keys are masked.
double show_padding(const Options& opt, Rng& rng) {
  print_section("3. Padding: a short sentence padded to the batch's length");
  const Labels tokens = {"我", "散步", "<pad>", "<pad>"};
  const Matrix x = rng.normal_matrix(4, opt.d_model);
  const BoolVector pad = {false, false, true, true};
  const BoolMatrix mask = padding_mask(pad, 4);
  print_matrix("padding_mask: key_padding_mask [0 0 1 1] repeated for every query", as_numbers(mask), tokens,
               tokens, 0);
  const AttentionResult r = masked_attention(x, x, x, mask);
  print_heatmap("weights: no query takes anything from <pad>", r.weights, tokens, tokens);
  if (!opt.common.svg_dir.empty()) {
    HeatmapSpec spec;
    spec.title = "Padded sentence: the <pad> keys get weight 0";
    spec.rows = tokens;
    spec.cols = tokens;
    spec.row_axis = "query";
    spec.col_axis = "key";
    write_heatmap_svg(opt.common.svg_dir, "04-padding-weights.svg", r.weights, spec);
  }
  // The real tokens alone, without padding, must give the same outputs.
  const Matrix real = xt::view(x, xt::range(0, 2), xt::all());
  const AttentionResult alone = masked_attention(real, real, real, no_mask(2, 2));
  const double error = max_abs_diff(Matrix(xt::view(r.output, xt::range(0, 2), xt::all())), alone.output);
  fmt::print("max |output of 我 散步 in the padded batch - output of 我 散步 alone| = {:.1e}\n", error);
  fmt::print(
      "(The <pad> rows still get outputs — from the real tokens; a model ignores them, e.g. in the loss.)\n");
  return error;
}

// Scores q k^T / sqrt(d_k) with `fill` where masked, then a plain softmax of each row (no special
// case): what a naive implementation does, to compare with masked_attention.
Matrix naive_masked_weights(const Matrix& q, const Matrix& k, const BoolMatrix& mask, double fill) {
  const Matrix k_t = xt::transpose(k);
  Matrix scores = matmul(q, k_t) / std::sqrt(static_cast<double>(q.shape(1)));
  for (std::size_t i = 0; i < scores.shape(0); ++i)
    for (std::size_t j = 0; j < scores.shape(1); ++j)
      if (mask(i, j)) scores(i, j) = fill;
  Matrix w = xt::zeros<double>(scores.shape());
  for (std::size_t i = 0; i < scores.shape(0); ++i) {
    double m = -INFINITY, sum = 0;
    for (std::size_t j = 0; j < scores.shape(1); ++j) m = std::max(m, scores(i, j));
    for (std::size_t j = 0; j < scores.shape(1); ++j) sum += w(i, j) = std::exp(scores(i, j) - m);
    for (std::size_t j = 0; j < scores.shape(1); ++j) w(i, j) /= sum;
  }
  return w;
}

// Largest |entry| of each row: a short way to show an (n, d_model) output.
Vector row_max_abs(const Matrix& m) {
  Vector r = xt::zeros<double>({m.shape(0)});
  for (std::size_t i = 0; i < m.shape(0); ++i)
    for (std::size_t j = 0; j < m.shape(1); ++j) r(i) = std::max(r(i), std::abs(m(i, j)));
  return r;
}

// 4. A row with nothing to attend to: a left-padded sentence under the causal mask.
bool show_fully_masked(const Options& opt, Rng& rng) {
  print_section("4. A fully masked row: zero weights and a zero output, not NaN");
  const Labels tokens = {"<pad>", "我", "散步"};
  const Matrix x = rng.normal_matrix(3, opt.d_model);
  const BoolVector pad = {true, false, false};
  const BoolMatrix mask = combine_masks(causal_mask(3), padding_mask(pad, 3));
  fmt::print(
      "A sentence padded on the left, under the causal mask: <pad> may see only itself, and it is\n"
      "padding. combine_masks(causal_mask(3), padding_mask([1 0 0], 3)):\n");
  print_matrix("mask, 1 = may not attend: row <pad> forbids every key", as_numbers(mask), tokens, tokens, 0);
  const AttentionResult r = masked_attention(x, x, x, mask);
  print_matrix("weights = masked_attention(X, X, X, mask).weights", r.weights, tokens, tokens, 2);
  print_vector("output: the largest |entry| of each row", row_max_abs(r.output), tokens, 4);
  // What the plain softmax does with that row: with -inf, 0 / 0; with -1e9, a uniform row.
  const Matrix with_inf = naive_masked_weights(x, x, mask, -INFINITY);
  const Matrix with_big = naive_masked_weights(x, x, mask, -1e9);
  fmt::print(
      "A plain softmax of row <pad>, [-inf -inf -inf], is 0 / 0 = {}: PyTorch's MultiheadAttention\n"
      "returns NaN there, and the NaN spreads into every later layer. With -1e9 instead of -inf the\n"
      "row becomes [{:.2f} {:.2f} {:.2f}]: uniform, it reads the padding and the future. masked_attention\n"
      "returns zeros: the query receives nothing.\n",
      std::isnan(with_inf(0, 0)) ? "NaN" : "a number", with_big(0, 0), with_big(0, 1), with_big(0, 2));
  const bool rest_same = max_abs_diff(Matrix(xt::view(with_inf, xt::range(1, 3), xt::all())),
                                      Matrix(xt::view(r.weights, xt::range(1, 3), xt::all()))) <= 1e-15;
  return rest_same && !xt::any(xt::isnan(r.output)) && row_max_abs(r.weights)(0) == 0.0 &&
         row_max_abs(r.output)(0) == 0.0;
}

// --load DIR: torch.nn.MultiheadAttention with one head.
int run_loaded(const Options& opt) {
  const AttentionLayerFiles f = load_attention_layer(opt.common.load_dir);
  require_memory(8.0 * 4.0 * f.query.shape(0) * f.key.shape(0), "the (L, S) weights of these files");
  print_title("Chapter 04 · One-head attention with masks on " + opt.common.load_dir);
  // project, masked attention, project again (one_head_layer in common/contracts/04_masking.hpp)
  const AttentionResult r = one_head_layer(f);
  require_finite_result("attn_output_weights", r.weights);  // an overflow is bad input, never a printed NaN
  require_finite_result("attn_output", r.output);
  const Matrix& out = r.output;
  const Labels queries = numbered("q", f.mask.shape(0)), keys = numbered("k", f.mask.shape(1));
  print_matrix("mask (attn_mask | key_padding_mask), 1 = may not attend", as_numbers(f.mask), queries, keys,
               0);
  print_matrix("attn_output_weights (head 0)", r.weights, queries, keys);
  print_matrix("attn_output", out, queries);
  if (!opt.common.save_dir.empty()) {
    const Tensor3 w3 = xt::reshape_view(r.weights, {std::size_t{1}, r.weights.shape(0), r.weights.shape(1)});
    save_npy(opt.common.save_dir, "attn_output", out);
    save_npy(opt.common.save_dir, "attn_output_weights", w3);
    fmt::print("wrote attn_output.npy {} and attn_output_weights.npy {} to {}\n", shape_of(out), shape_of(w3),
               opt.common.save_dir);
  }
  // Rows where every key is masked: PyTorch gives NaN, the course zero weights, so that row of
  // attn_output is out_proj applied to a zero vector: out_proj.bias.
  std::vector<std::size_t> empty_rows;
  for (std::size_t i = 0; i < f.mask.shape(0); ++i)
    if (xt::all(xt::view(f.mask, i, xt::all()))) empty_rows.push_back(i);
  double empty_error = 0;
  for (const std::size_t i : empty_rows) {
    fmt::print("row {} is fully masked: weights 0, attn_output row = out_proj.bias (PyTorch: NaN)\n", i);
    empty_error = std::max(empty_error, max_abs_diff(Vector(xt::view(out, i, xt::all())), f.out_proj_bias));
  }
  print_section("Self-checks");
  SelfChecks checks;
  checks.expect("no NaN", !xt::any(xt::isnan(out)) && !xt::any(xt::isnan(r.weights)));
  checks.close("weights are 0 wherever the mask is true", xt::amax(xt::where(f.mask, r.weights, 0.0))(), 0.0);
  if (!empty_rows.empty()) checks.close("fully masked rows give out_proj.bias", empty_error, 0.0);
  return checks.exit_code();
}

int run(const Options& opt) {
  if (!opt.common.load_dir.empty()) return run_loaded(opt);
  require_within_limits(cost_of(opt), fmt::format("--d-model {}", opt.d_model));
  print_title("Chapter 04 · Masking");
  print_config("tokens", "我 喜欢 在 公园 里 散步 (6), embeddings drawn N(0, 1)");
  print_config("sizes", fmt::format("d_model = {} (--d-model); Q = K = V = X", opt.d_model));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  const Matrix x = rng.normal_matrix(kTokens.size(), opt.d_model);
  const AttentionResult causal = show_causal(opt, x);
  std::vector<double> unmasked;
  const std::vector<double> masked = show_future(opt, x, rng, unmasked);
  const double padding_error = show_padding(opt, rng);
  const bool zero_row = show_fully_masked(opt, rng);

  print_section("Self-checks");
  SelfChecks checks;
  const Vector sums = xt::sum(causal.weights, {1});
  checks.close("causal rows sum to 1", max_abs_diff(sums, Vector(xt::ones<double>({sums.size()}))), 1e-12);
  double above = 0;
  for (std::size_t i = 0; i < causal.weights.shape(0); ++i)
    for (std::size_t j = i + 1; j < causal.weights.shape(1); ++j)
      above = std::max(above, causal.weights(i, j));
  checks.close("no weight above the diagonal", above, 0.0);
  double past = 0;
  for (std::size_t t = 0; t + 1 < masked.size(); ++t) past = std::max(past, masked[t]);
  checks.close("with the mask, rows 0..n-2 ignore the last token", past, 0.0);
  checks.expect("without the mask, row 0 changes", unmasked[0] > 1e-6, fmt::format("by {:.4f}", unmasked[0]));
  checks.close("padding changes nothing for the real tokens", padding_error, 1e-12);
  checks.expect("a fully masked row gives zeros, not NaN", zero_row);
  if (!opt.common.svg_dir.empty()) {
    std::vector<double> t;
    for (std::size_t i = 0; i < masked.size(); ++i) t.push_back(static_cast<double>(i));
    PlotSpec spec;
    spec.title = "How much output t moves when the last token changes";
    spec.x_label = "position t";
    spec.y_label = "max |change| of output row t";
    write_line_plot_svg(opt.common.svg_dir, "04-future-leak.svg", t,
                        {{"no mask", unmasked}, {"causal mask", masked}}, spec);
    fmt::print(
        "wrote 04-causal-mask.svg, 04-causal-weights.svg, 04-future-leak.svg and 04-padding-weights.svg to "
        "{}\n",
        opt.common.svg_dir);
  }
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 04: causal and padding masks, and why a decoder needs the causal mask",
               "ch04_masking"};
  Options opt;
  add_size_option(app, "--d-model", opt.d_model, "Width of each token's embedding", 1, kMaxDModel,
                  "at most 64: wider, each token attends almost only to itself and none reads the future");
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

// Chapter 04 — masking: causal and padding masks, -inf before the softmax, fully masked rows, and
// why a decoder needs the causal mask (without it, position t reads the future).
//
//   build/bin/ch04_masking [--d-model D] [--seed S] [--svg DIR] [--load DIR] [--save DIR] [--no-color]
// With --load DIR it is torch.nn.MultiheadAttention with one head (chapter 05 does several).
//
// Each section computes into a named result (compute_*), then prints and draws it (show_*); the
// closing self_checks() read those results and nothing else. With --load DIR, run_loaded() does the
// same for the files: compute_loaded, then report_results (results.hpp: check, print, --save), then
// loaded_self_checks.
#include "04_masking/given.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "print.hpp"
#include "pytorch.hpp"
#include "results.hpp"
#include "rng.hpp"

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

// The flags, each setting a field of Options (the sizes up to what fits the limits, cost_of).
void add_flags(CLI::App& app, Options& opt) {
  add_size_option(app, "--d-model", opt.d_model, "Width of each token's embedding", 1, kMaxDModel,
                  "at most 64: wider, each token attends almost only to itself and none reads the future");
  add_common_options(app, opt.common, /*interop=*/true);
}

// A mask as a 0/1 matrix for printing: 1 = may not attend.
Matrix as_numbers(const BoolMatrix& mask) {
  Matrix m = xt::zeros<double>(mask.shape());
  for (std::size_t i = 0; i < mask.shape(0); ++i)
    for (std::size_t j = 0; j < mask.shape(1); ++j) m(i, j) = mask(i, j) ? 1.0 : 0.0;
  return m;
}

// The largest weight where the mask forbids attending (0 when the mask is obeyed).
//   weights (L, S) >= 0, mask (L, S)  ->  max over masked (i, j) of weights[i][j], or 0
double largest_masked_weight(const Matrix& weights, const BoolMatrix& mask) {
  double largest = 0.0;
  for (std::size_t i = 0; i < mask.shape(0); ++i)
    for (std::size_t j = 0; j < mask.shape(1); ++j)
      if (mask(i, j)) largest = std::max(largest, weights(i, j));
  return largest;
}

// Largest |entry| of each row: a short way to show an (n, d_model) output.   m (n, d)  ->  (n)
Vector row_max_abs(const Matrix& m) {
  Vector r = xt::zeros<double>({m.shape(0)});
  for (std::size_t i = 0; i < m.shape(0); ++i)
    for (std::size_t j = 0; j < m.shape(1); ++j) r(i) = std::max(r(i), std::abs(m(i, j)));
  return r;
}

// 1. The causal mask and what it does to the scores and the weights, on Q = K = V = X:
//      scores[i][j] = x_i . x_j / sqrt(d_model), or -inf where j > i
//      weights = softmax of each row: exp(-inf) = 0, so the allowed weights share all of 1
struct CausalResult {
  BoolMatrix mask;            // (n, n): causal_mask(n), true where j > i
  Matrix scores;              // (n, n): the scores above, -inf where masked
  AttentionResult attention;  // masked_attention(X, X, X, mask): weights (n, n), output (n, d_model)
  double late_first_row_sum;  // softmax without the mask, then the masked weights zeroed: row 0's sum
};

CausalResult compute_causal(const Matrix& x) {
  const std::size_t n = x.shape(0);
  CausalResult c;
  c.mask = causal_mask(n);
  const Matrix x_t = xt::transpose(x);
  c.scores = matmul(x, x_t) / std::sqrt(static_cast<double>(x.shape(1)));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (c.mask(i, j)) c.scores(i, j) = -INFINITY;
  c.attention = masked_attention(x, x, x, c.mask);
  // The wrong order: softmax without the mask, then zero the forbidden weights.
  Matrix late = masked_attention(x, x, x, no_mask(n, n)).weights;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (c.mask(i, j)) late(i, j) = 0.0;
  c.late_first_row_sum = 0.0;
  for (std::size_t j = 0; j < n; ++j) c.late_first_row_sum += late(0, j);
  return c;
}

void show_causal(const CausalResult& c, Figures& figures) {
  print_section("1. The causal mask: token i may look at tokens 0..i only");
  print_matrix("causal_mask(6): 1 = may not attend (j > i)", as_numbers(c.mask), kTokens, kTokens, 0);
  print_matrix("scores = Q K^T / sqrt(d_k), -inf where masked (Q = K = V = X)", c.scores, kTokens, kTokens,
               2);
  print_heatmap("weights = softmax of each row: exp(-inf) = 0, the rest renormalised", c.attention.weights,
                kTokens, kTokens);
  fmt::print(
      "Row 0 (我) can only see itself: weight 1. Each row still sums to 1 over the keys it may see.\n");
  fmt::print(
      "Masking after the softmax instead (zeroing those weights) leaves row 我 summing to {:.4f}, not 1.\n",
      c.late_first_row_sum);
  figures.heatmap("04-causal-mask.svg", as_numbers(c.mask),
                  heatmap_spec("causal_mask(6): 1 = may not attend (key j after query i)", kTokens, kTokens,
                               "query (position i)", "key (position j)")
                      .with_decimals(0));
  figures.heatmap("04-causal-weights.svg", c.attention.weights,
                  heatmap_spec("Causal self-attention: nothing above the diagonal", kTokens, kTokens,
                               "query (position i)", "key (position j)"));
}

// 2. Why a decoder needs the mask: replace the last token and see which outputs move.
//      change[t] = max over c of |output'[t][c] - output[t][c]|, without and with the causal mask
struct FutureResult {
  std::vector<double> unmasked;  // (n): change of output row t without a mask
  std::vector<double> masked;    // (n): the same under the causal mask
};

FutureResult compute_future(const Matrix& x, Rng& rng) {
  const std::size_t n = x.shape(0);
  Matrix changed = x;
  const Matrix new_token = rng.normal_matrix(1, x.shape(1));
  for (std::size_t c = 0; c < x.shape(1); ++c) changed(n - 1, c) = new_token(0, c);
  const AttentionResult a0 = masked_attention(x, x, x, no_mask(n, n));
  const AttentionResult a1 = masked_attention(changed, changed, changed, no_mask(n, n));
  const AttentionResult c0 = masked_attention(x, x, x, causal_mask(n));
  const AttentionResult c1 = masked_attention(changed, changed, changed, causal_mask(n));
  const Vector unmasked = row_max_abs(a1.output - a0.output);
  const Vector masked = row_max_abs(c1.output - c0.output);
  FutureResult f;
  for (std::size_t t = 0; t < n; ++t) {
    f.unmasked.push_back(unmasked(t));
    f.masked.push_back(masked(t));
  }
  return f;
}

void show_future(const FutureResult& f, Figures& figures) {
  const std::size_t n = f.masked.size();
  print_section("2. Why a decoder needs the mask: without it, position t reads the future");
  fmt::print(
      "Replace the last token (散步) by another one and recompute. A language model is trained to\n"
      "predict token t+1 from tokens 0..t; if output t changes when a later token changes, it has\n"
      "seen the answer.\n\n");
  fmt::print("{:<6} {:>28} {:>28}\n", "row t", "change without the mask", "change with the causal mask");
  for (std::size_t t = 0; t < n; ++t) {
    fmt::print("{} {:>28.4f} {:>28.4f}{}\n", pad_right(kTokens[t], 6), f.unmasked[t], f.masked[t],
               t + 1 == n ? "   (the changed token itself)" : "");
  }
  fmt::print(
      "Without the mask every row moves: each position reads the future. With it, rows 0..4 do not\n"
      "move at all (exactly 0): the prediction at t depends on tokens 0..t only.\n");

  std::vector<double> positions;
  for (std::size_t t = 0; t < n; ++t) positions.push_back(static_cast<double>(t));
  const PlotSpec spec{"How much output t moves when the last token changes", "position t",
                      "max |change| of output row t"};
  figures.line_plot("04-future-leak.svg", positions, {{"no mask", f.unmasked}, {"causal mask", f.masked}},
                    spec);
}

// 3. Padding: a short sentence padded to the batch's length; the padded keys are masked, so the real
//    tokens' outputs are those of the real tokens alone.
struct PaddingResult {
  Labels tokens;              // 我 散步 <pad> <pad>
  BoolMatrix mask;            // (4, 4): padding_mask([0 0 1 1], 4)
  AttentionResult attention;  // masked_attention(X, X, X, mask)
  double error;               // max |output of 我 散步 in the padded batch - output of 我 散步 alone|
};

PaddingResult compute_padding(const Options& opt, Rng& rng) {
  PaddingResult p;
  p.tokens = {"我", "散步", "<pad>", "<pad>"};
  const Matrix x = rng.normal_matrix(4, opt.d_model);
  const BoolVector pad = {false, false, true, true};
  p.mask = padding_mask(pad, 4);
  p.attention = masked_attention(x, x, x, p.mask);
  // The real tokens alone, without padding, must give the same outputs.
  const Matrix real = xt::view(x, xt::range(0, 2), xt::all());
  const AttentionResult alone = masked_attention(real, real, real, no_mask(2, 2));
  const Matrix real_in_batch = xt::view(p.attention.output, xt::range(0, 2), xt::all());
  p.error = max_abs_diff(real_in_batch, alone.output);
  return p;
}

void show_padding(const PaddingResult& p, Figures& figures) {
  print_section("3. Padding: a short sentence padded to the batch's length");
  print_matrix("padding_mask: key_padding_mask [0 0 1 1] repeated for every query", as_numbers(p.mask),
               p.tokens, p.tokens, 0);
  print_heatmap("weights: no query takes anything from <pad>", p.attention.weights, p.tokens, p.tokens);
  fmt::print("max |output of 我 散步 in the padded batch - output of 我 散步 alone| = {:.1e}\n", p.error);
  fmt::print(
      "(The <pad> rows still get outputs — from the real tokens; a model ignores them, e.g. in the loss.)\n");
  figures.heatmap("04-padding-weights.svg", p.attention.weights,
                  heatmap_spec("Padded sentence: the <pad> keys get weight 0", p.tokens, p.tokens));
}

// Scores q k^T / sqrt(d_k) with `fill` where masked, then a plain softmax of each row (no special
// case): what a naive implementation does, to compare with masked_attention.
//   w[i][j] = exp(s[i][j] - m_i) / sum_k exp(s[i][k] - m_i),  m_i the largest score of row i
// A row of -inf gives m_i = -inf and exp(-inf - -inf) = exp(NaN): NaN.
Matrix naive_masked_weights(const Matrix& q, const Matrix& k, const BoolMatrix& mask, double fill) {
  const Matrix k_t = xt::transpose(k);
  Matrix scores = matmul(q, k_t) / std::sqrt(static_cast<double>(q.shape(1)));
  for (std::size_t i = 0; i < scores.shape(0); ++i)
    for (std::size_t j = 0; j < scores.shape(1); ++j)
      if (mask(i, j)) scores(i, j) = fill;
  Matrix w = xt::zeros<double>(scores.shape());
  for (std::size_t i = 0; i < scores.shape(0); ++i) {
    double m = -INFINITY;
    for (std::size_t j = 0; j < scores.shape(1); ++j) m = std::max(m, scores(i, j));
    double sum = 0;
    for (std::size_t j = 0; j < scores.shape(1); ++j) {
      w(i, j) = std::exp(scores(i, j) - m);
      sum += w(i, j);
    }
    for (std::size_t j = 0; j < scores.shape(1); ++j) w(i, j) /= sum;
  }
  return w;
}

// 4. A row with nothing to attend to: a left-padded sentence under the causal mask. masked_attention
//    gives that row zero weights and a zero output; a plain softmax gives NaN (fill -inf) or a uniform
//    row (fill -1e9).
struct FullyMaskedResult {
  Labels tokens;    // <pad> 我 散步
  BoolMatrix mask;  // (3, 3): combine_masks(causal_mask(3), padding_mask([1 0 0], 3)); row 0 all true
  AttentionResult attention;  // masked_attention(X, X, X, mask)
  Matrix with_inf, with_big;  // (3, 3): naive_masked_weights with fill -inf and -1e9
};

FullyMaskedResult compute_fully_masked(const Options& opt, Rng& rng) {
  FullyMaskedResult f;
  f.tokens = {"<pad>", "我", "散步"};
  const Matrix x = rng.normal_matrix(3, opt.d_model);
  const BoolVector pad = {true, false, false};
  f.mask = combine_masks(causal_mask(3), padding_mask(pad, 3));
  f.attention = masked_attention(x, x, x, f.mask);
  f.with_inf = naive_masked_weights(x, x, f.mask, -INFINITY);
  f.with_big = naive_masked_weights(x, x, f.mask, -1e9);
  return f;
}

void show_fully_masked(const FullyMaskedResult& f) {
  print_section("4. A fully masked row: zero weights and a zero output, not NaN");
  fmt::print(
      "A sentence padded on the left, under the causal mask: <pad> may see only itself, and it is\n"
      "padding. combine_masks(causal_mask(3), padding_mask([1 0 0], 3)):\n");
  print_matrix("mask, 1 = may not attend: row <pad> forbids every key", as_numbers(f.mask), f.tokens,
               f.tokens, 0);
  print_matrix("weights = masked_attention(X, X, X, mask).weights", f.attention.weights, f.tokens, f.tokens,
               2);
  print_vector("output: the largest |entry| of each row", row_max_abs(f.attention.output), f.tokens, 4);
  fmt::print(
      "A plain softmax of row <pad>, [-inf -inf -inf], is 0 / 0 = {}: PyTorch's MultiheadAttention\n"
      "returns NaN there, and the NaN spreads into every later layer. With -1e9 instead of -inf the\n"
      "row becomes [{:.2f} {:.2f} {:.2f}]: uniform, it reads the padding and the future. masked_attention\n"
      "returns zeros: the query receives nothing.\n",
      std::isnan(f.with_inf(0, 0)) ? "NaN" : "a number", f.with_big(0, 0), f.with_big(0, 1),
      f.with_big(0, 2));
}

// The closing self-checks: every claim of the walkthrough, from the numbers it computed.
int self_checks(const CausalResult& causal, const FutureResult& future, const PaddingResult& padding,
                const FullyMaskedResult& fully) {
  print_section("Self-checks");
  SelfChecks checks;
  checks.close("causal rows sum to 1", max_row_sum_error(causal.attention.weights), 1e-12);
  // the causal mask is true exactly above the diagonal (j > i)
  checks.close("no weight above the diagonal", largest_masked_weight(causal.attention.weights, causal.mask),
               0.0);
  double past = 0;  // the largest change of rows 0..n-2: the rows before the changed token
  for (std::size_t t = 0; t + 1 < future.masked.size(); ++t) past = std::max(past, future.masked[t]);
  checks.close("with the mask, rows 0..n-2 ignore the last token", past, 0.0);
  checks.expect("without the mask, row 0 changes", future.unmasked[0] > 1e-6,
                fmt::format("by {:.4f}", future.unmasked[0]));
  checks.close("padding changes nothing for the real tokens", padding.error, 1e-12);
  // Row 0 (every key masked): zero weights and a zero output; no NaN anywhere; rows 1 and 2 (not
  // fully masked) the same weights as the plain softmax.
  const Vector largest_weight = row_max_abs(fully.attention.weights);  // per row
  const Vector largest_output = row_max_abs(fully.attention.output);
  const bool row_zero = largest_weight(0) == 0.0 && largest_output(0) == 0.0;
  const bool no_nan = !xt::any(xt::isnan(fully.attention.output));
  const Matrix rest = xt::view(fully.attention.weights, xt::range(1, 3), xt::all());
  const Matrix rest_naive = xt::view(fully.with_inf, xt::range(1, 3), xt::all());
  const bool rest_same = max_abs_diff(rest, rest_naive) <= 1e-15;
  const bool zero_row = row_zero && no_nan && rest_same;
  checks.expect("a fully masked row gives zeros, not NaN", zero_row);
  return checks.exit_code();
}

// --load DIR: torch.nn.MultiheadAttention with one head: project the inputs, masked attention,
// project again (one_head_layer in chapters/04_masking/given.hpp).
struct LoadedResult {
  AttentionLayerFiles files;            // query (L, E), key and value (S, E), the weights, mask (L, S)
  AttentionResult attention;            // output = attn_output (L, E), weights (L, S)
  Tensor3 attn_output_weights;          // the weights as PyTorch returns them for one head: (1, L, S)
  std::vector<std::size_t> empty_rows;  // rows whose every key is masked
  double empty_error = 0;               // max |attn_output row - out_proj.bias| over those rows
};

// A row whose every key is masked: PyTorch gives NaN there, the course zero weights, so that row of
// attn_output is out_proj applied to a zero vector: out_proj.bias.
LoadedResult compute_loaded(const std::string& dir) {
  LoadedResult r;
  r.files = load_attention_layer(dir);
  require_no_unread_files(dir, {"attn_output", "attn_output_weights"}, "torch.nn.MultiheadAttention's files");
  const BoolMatrix& mask = r.files.mask;
  require_memory(8.0 * 4.0 * r.files.query.shape(0) * r.files.key.shape(0),
                 "the (L, S) weights of these files");
  r.attention = one_head_layer(r.files);
  const Matrix& w = r.attention.weights;
  r.attn_output_weights = xt::reshape_view(w, {std::size_t{1}, w.shape(0), w.shape(1)});
  for (std::size_t i = 0; i < mask.shape(0); ++i) {
    bool all_masked = true;
    for (std::size_t j = 0; j < mask.shape(1); ++j) all_masked = all_masked && mask(i, j);
    if (!all_masked) continue;
    r.empty_rows.push_back(i);
    const Vector row = xt::view(r.attention.output, i, xt::all());
    r.empty_error = std::max(r.empty_error, max_abs_diff(row, r.files.out_proj_bias));
  }
  return r;
}

// attn_output_weights (head 0) and attn_output, labelled by query and key, then the fully masked rows.
std::vector<NamedResult> loaded_results(const LoadedResult& r) {
  const Labels queries = numbered("q", r.files.mask.shape(0)), keys = numbered("k", r.files.mask.shape(1));
  return {named_result("attn_output_weights", r.attn_output_weights,
                       [&r, queries, keys] {
                         print_matrix("attn_output_weights (head 0)", r.attention.weights, queries, keys);
                       }),
          named_result("attn_output", r.attention.output, [&r, queries] {
            print_matrix("attn_output", r.attention.output, queries);
            for (const std::size_t i : r.empty_rows)
              fmt::print(
                  "row {} is fully masked: weights 0, attn_output row = out_proj.bias (PyTorch: NaN)\n", i);
          })};
}

int loaded_self_checks(const LoadedResult& r) {
  print_section("Self-checks");
  SelfChecks checks;
  checks.expect("no NaN",
                !xt::any(xt::isnan(r.attention.output)) && !xt::any(xt::isnan(r.attention.weights)));
  checks.close("weights are 0 wherever the mask is true",
               largest_masked_weight(r.attention.weights, r.files.mask), 0.0);
  if (!r.empty_rows.empty()) checks.close("fully masked rows give out_proj.bias", r.empty_error, 0.0);
  return checks.exit_code();
}

int run_loaded(const Options& opt) {
  const LoadedResult r = compute_loaded(opt.common.load_dir);
  const Labels queries = numbered("q", r.files.mask.shape(0)), keys = numbered("k", r.files.mask.shape(1));
  print_title("Chapter 04 · One-head attention with masks on " + opt.common.load_dir);
  print_matrix("mask (attn_mask | key_padding_mask), 1 = may not attend", as_numbers(r.files.mask), queries,
               keys, 0);
  report_results(loaded_results(r), opt.common.save_dir);
  return loaded_self_checks(r);
}

int run(const Options& opt) {
  if (!opt.common.load_dir.empty()) return run_loaded(opt);
  require_within_limits(cost_of(opt), fmt::format("--d-model {}", opt.d_model));
  print_title("Chapter 04 · Masking");
  print_config("tokens", "我 喜欢 在 公园 里 散步 (6), embeddings drawn N(0, 1)");
  print_config("sizes", fmt::format("d_model = {} (--d-model); Q = K = V = X", opt.d_model));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  Figures figures(opt.common);
  const Matrix x = rng.normal_matrix(kTokens.size(), opt.d_model);  // sections 1 and 2
  const CausalResult causal = compute_causal(x);
  show_causal(causal, figures);
  const FutureResult future = compute_future(x, rng);
  show_future(future, figures);
  const PaddingResult padding = compute_padding(opt, rng);
  show_padding(padding, figures);
  const FullyMaskedResult fully = compute_fully_masked(opt, rng);
  show_fully_masked(fully);

  const int status = self_checks(causal, future, padding, fully);
  figures.report();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 04: causal and padding masks, and why a decoder needs the causal mask",
               "ch04_masking"};
  Options opt;
  add_flags(app, opt);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

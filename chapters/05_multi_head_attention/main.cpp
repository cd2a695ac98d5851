// Chapter 05 — multi-head attention: split d_model into h heads, attend in each, concatenate, project
// with W_o. Per-head heatmaps; parameters and multiply-adds of h heads against one head of width
// d_model, counted; the chunk-size bug; torch.nn.MultiheadAttention through --load/--save.
//
//   build/bin/ch05_multi_head_attention [--d-model E] [--heads H] [--seed S] [--svg DIR] [--save DIR]
//                                       [--no-color]
//   build/bin/ch05_multi_head_attention --load DIR [--heads H] [--save DIR]
//
// Sections: 1. how d_model is cut into heads, 2. H heads on a sentence, 3. what heads cost. Each
// section computes into a struct (compute_*), then prints and draws from it (show_*); self_checks()
// checks the claims from those structs; run() calls them in order.
#include "05_multi_head_attention/given.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "print.hpp"
#include "pytorch.hpp"
#include "results.hpp"
#include "rng.hpp"

using namespace course;

namespace {

// The six tokens of the example sentence, 我喜欢在公园里散步 (I like to take walks in the park).
const Labels kTokens = {"我", "喜欢", "在", "公园", "里", "散步"};

struct Options {
  CommonOptions common;
  int d_model = 8;  // E
  int heads = 2;    // H
};

// What a run needs, estimated from its sizes before it starts (the cost constants are in cli.hpp):
// the weights (4E, E) and a copy or two of them (6 E² doubles, measured). The work: drawing the
// weights into fresh memory, the projections of 6 tokens (4 x 6 E² multiply-adds) through linear(),
// which copies the weights it uses into fresh memory (7 E²), sharpening W_q and W_k (2 E²), each
// head's softmax, and printing the (6, E) output.
Cost cost_of(const Options& opt) {
  const double E = opt.d_model, H = opt.heads, L = kTokens.size();
  return {8.0 * 6.0 * E * E, E * E * (4.0 * uniform_draw + 11.0 * fresh_double + 4.0 * L + 2.0) +
                                 E * (L * printed_number + 4.0 * uniform_draw + 2.0 * L * L) +
                                 H * L * L * math_call};
}

// The flags, each setting a field of Options (the sizes up to what fits the limits, cost_of).
void add_flags(CLI::App& app, Options& opt) {
  const int max_d_model = largest_within_limits(&Options::d_model, cost_of);
  add_size_option(app, "--d-model", opt.d_model, "Width E of each token", max_d_model);
  add_size_option(app, "--heads", opt.heads, "Number of heads H (must divide d_model)", max_d_model);
  add_common_options(app, opt.common, /*interop=*/true);
}

// Head h's attention weights, weights[h] (L, S), as a matrix.
Matrix head_weights(const MultiHeadResult& r, std::size_t h) {
  return xt::view(r.weights, h, xt::all(), xt::all());
}

// 1. Splitting d_model into heads.
//   right: head h owns the d_head = E / H consecutive columns [h d_head, (h + 1) d_head)
//   bug:   torch.split(x, H, dim=-1) makes chunks OF SIZE H: ceil(E / H) chunks, chunk c owning
//          columns [c H, min((c + 1) H, E))
struct SplitResult {
  std::size_t d_model = 0, heads = 0, d_head = 0;
  std::size_t bug_chunks = 0;  // ceil(E / H)
  Matrix ramp;                 // (1, E): one token [0 1 ... E-1]
  Tensor3 ramp_heads;          // split_heads(ramp, H): (H, 1, d_head)
};

SplitResult compute_split(const Options& opt) {
  SplitResult s;
  s.d_model = opt.d_model;
  s.heads = opt.heads;
  s.d_head = s.d_model / s.heads;
  s.bug_chunks = (s.d_model + s.heads - 1) / s.heads;  // ceil(E / H) in whole numbers
  s.ramp = Matrix::from_shape({1, s.d_model});
  for (std::size_t c = 0; c < s.d_model; ++c) s.ramp(0, c) = static_cast<double>(c);
  s.ramp_heads = split_heads(s.ramp, s.heads);
  return s;
}

// "c0-3" for `count` columns starting at `from`; "c4" for one.
std::string columns(std::size_t from, std::size_t count) {
  if (count == 1) return fmt::format("c{}", from);
  return fmt::format("c{}-{}", from, from + count - 1);
}

void show_split(const SplitResult& s) {
  print_section("1. Splitting d_model into heads");
  const std::size_t E = s.d_model, H = s.heads;
  fmt::print("split_heads: {} heads of d_head = d_model / heads = {} / {} = {} consecutive columns each\n", H,
             E, H, s.d_head);
  std::string right;
  for (std::size_t h = 0; h < H; ++h)
    right += fmt::format("  head {}: {}", h, columns(h * s.d_head, s.d_head));
  fmt::print("  right:{}\n", right);
  std::string wrong;  // the first 6 chunks of the bug at most
  for (std::size_t c = 0; c < s.bug_chunks && c < 6; ++c)
    wrong += fmt::format("  chunk {}: {}", c, columns(c * H, std::min(H, E - c * H)));
  fmt::print("  bug:  {}{}\n", wrong, s.bug_chunks > 6 ? "  ..." : "");
  fmt::print(
      "Splitting with chunk size num_heads gives {} chunks of width {} instead of {} heads of width {}",
      s.bug_chunks, H, H, s.d_head);
  fmt::print("{}\n", s.bug_chunks == H ? " (the same only when heads² = d_model)." : ".");
  fmt::print("x = [0 1 ... {}] (1, {}) -> split_heads -> {}\n", E - 1, E, shape_of(s.ramp_heads));
}

// 2. Multi-head self-attention on the sentence: x (L, E) drawn N(0, 1), weights drawn like
// torch.nn.MultiheadAttention's initialisation, then
//   attention = multi_head_attention(x, x, x, w, H, no mask): output (L, E), weights (H, L, L)
struct HeadsResult {
  Matrix x;                   // (L, E): the sentence's embeddings
  MultiHeadWeights w;         // in_proj_weight (3E, E) with W_q and W_k x 4, in_proj_bias, out_proj
  MultiHeadResult attention;  // output (L, E), weights (H, L, L)
};

HeadsResult compute_heads(const Options& opt, Rng& rng) {
  const std::size_t L = kTokens.size(), E = opt.d_model;
  HeadsResult r;
  r.x = rng.normal_matrix(L, E);
  r.w = random_multi_head_weights(rng, E);
  // Fresh weights give nearly uniform attention; sharpen the query and key projections (rows [0, 2E)
  // of in_proj) as training does, so the heads' patterns are visible.
  xt::view(r.w.in_proj_weight, xt::range(0, 2 * E), xt::all()) *= 4.0;
  r.attention = multi_head_attention(r.x, r.x, r.x, r.w, opt.heads, no_mask(L, L));
  return r;
}

void show_heads(const HeadsResult& r, Figures& figures) {
  const std::size_t H = r.attention.weights.shape(0), E = r.x.shape(1);
  print_section(
      fmt::format("2. {} heads, each attending in its own {}-wide slice of the projected Q, K, V", H, E / H));
  const std::size_t shown = std::min<std::size_t>(H, 4);
  for (std::size_t h = 0; h < shown; ++h)
    print_heatmap(fmt::format("head {} weights", h), head_weights(r.attention, h), kTokens, kTokens);
  if (shown < H) fmt::print("(heads {}..{} not shown)\n", shown, H - 1);
  print_matrix("output = concat(head outputs) W_o^T + b_o", r.attention.output, kTokens, {}, 2);
  fmt::print(
      "The heads look at the same tokens through different projections, so they spread their\n"
      "attention differently; W_o mixes what they found.\n");
  for (std::size_t h = 0; h < std::min<std::size_t>(H, 2); ++h)
    figures.heatmap(
        fmt::format("05-head-{}.svg", h), head_weights(r.attention, h),
        heatmap_spec(fmt::format("Head {} of {}: attention weights (random weights, E = {})", h, H, E),
                     kTokens, kTokens));
}

// 3. What heads cost. Multiply-adds of multi-head attention, counted from the shapes of every product
// the forward pass performs (an (a, b) x (b, c) product is a b c multiply-adds), for L queries, S
// keys, width E and H heads of d_head = E / H:
//   parameters   in_proj (3E, E) + (3E), out_proj (E, E) + (E)                 whatever H is
//   projections  Q (L, E)(E, E), K and V (S, E)(E, E), output (L, E)(E, E)
//   scores       H times Q_h K_h^T: (L, d_head)(d_head, S)
//   mixing       H times weights_h V_h: (L, S)(S, d_head)
//   score bytes  H (L, S) matrices of float64: the score tensor the forward pass stores
struct HeadCount {
  std::size_t heads = 0, d_head = 0;
  double params = 0, projections = 0, scores = 0, mixing = 0, score_bytes = 0;
  double total() const { return projections + scores + mixing; }
};

// Multiply-adds of an (rows, inner) x (inner, cols) product.
double product(double rows, double inner, double cols) {
  return rows * inner * cols;
}

HeadCount count_heads(std::size_t L, std::size_t S, std::size_t E, std::size_t H) {
  HeadCount c;
  c.heads = H;
  c.d_head = E / H;
  c.params = 3.0 * E * E + 3.0 * E + 1.0 * E * E + E;
  c.projections = product(L, E, E) + product(S, E, E) + product(S, E, E) + product(L, E, E);
  for (std::size_t h = 0; h < H; ++h) {
    c.scores += product(L, c.d_head, S);
    c.mixing += product(L, S, c.d_head);
    c.score_bytes += 8.0 * L * S;
  }
  return c;
}

struct CostResult {
  std::size_t tokens = 0, d_model = 0;  // L = S, E
  std::vector<HeadCount> rows;          // one per H that divides E, from H = 1 up
};

CostResult compute_cost(const Options& opt) {
  CostResult c;
  c.tokens = kTokens.size();
  c.d_model = opt.d_model;
  for (std::size_t H = 1; H <= c.d_model; ++H)
    if (c.d_model % H == 0) c.rows.push_back(count_heads(c.tokens, c.tokens, c.d_model, H));
  return c;
}

void show_cost(const CostResult& c) {
  print_section("3. What heads cost: parameters, multiply-adds and score memory, counted");
  fmt::print(
      "L = S = {} tokens, d_model = {}. Multiply-adds of every product in the forward pass, and the\n"
      "bytes of the (H, L, S) score tensor (float64):\n\n",
      c.tokens, c.d_model);
  fmt::print("{:>6} {:>7} {:>11} {:>16} {:>11} {:>12} {:>8} {:>13}\n", "heads", "d_head", "parameters",
             "Q,K,V,out proj", "Q_h K_h^T", "weights V_h", "total", "scores bytes");
  for (const HeadCount& row : c.rows)
    fmt::print("{:>6} {:>7} {:>11} {:>16} {:>11} {:>12} {:>8} {:>13}\n", row.heads, row.d_head, row.params,
               row.projections, row.scores, row.mixing, row.total(), row.score_bytes);
  fmt::print(
      "\nThe parameters and the multiply-adds are the same in every row: h heads of width d_model/h\n"
      "cost what one head of width d_model costs, so heads do not make attention cheaper. What\n"
      "grows is the score tensor: h matrices of L x S instead of one, so its memory and the traffic\n"
      "to write and read it (scores, softmax, weights) grow h-fold (chapter 08: 512 MiB for 8 heads\n"
      "over a 64 x 64 map against 64 MiB for one).\n");
}

// --save DIR in the walkthrough: the example as PyTorch files, to check with
// torch.nn.MultiheadAttention (see the docs): query = key = value = x.
std::vector<NamedResult> example_files(const HeadsResult& r) {
  std::vector<NamedResult> files = {named_result("query", r.x), named_result("key", r.x),
                                    named_result("value", r.x)};
  for (const NamedResult& f : multi_head_weight_files(r.w)) files.push_back(f);
  files.push_back(named_result("attn_output", r.attention.output));
  files.push_back(named_result("attn_output_weights", r.attention.weights));
  return files;
}

// The closing self-checks: every claim of the walkthrough, from the numbers it computed.
int self_checks(const SplitResult& split, const HeadsResult& heads, const CostResult& cost) {
  print_section("Self-checks");
  SelfChecks checks;
  // every row of every head's weights sums to 1
  const Tensor3& w = heads.attention.weights;
  const Matrix sums = xt::sum(w, {2});
  checks.close("every head's rows sum to 1", max_abs_diff(sums, Matrix(xt::ones<double>(sums.shape()))),
               1e-12);
  checks.close("merge_heads(split_heads(x)) = x",
               max_abs_diff(merge_heads(split_heads(heads.x, split.heads)), heads.x), 0.0);
  // every row against the first, H = 1: same parameters and multiply-adds, H times the score bytes
  const HeadCount& one = cost.rows.front();
  bool same = true;
  for (const HeadCount& row : cost.rows)
    same = same && row.params == one.params && row.total() == one.total() &&
           row.score_bytes == row.heads * one.score_bytes;
  checks.expect("h heads: same parameters and multiply-adds as one, h times the score bytes", same);
  checks.expect("output shape (L, d_model)", heads.attention.output.shape(1) == split.d_model,
                shape_of(heads.attention.output));
  return checks.exit_code();
}

int run(const Options& opt) {
  if (opt.d_model % opt.heads != 0)
    throw usage_error(fmt::format("--heads {} does not divide --d-model {}", opt.heads, opt.d_model));
  require_within_limits(cost_of(opt), fmt::format("--d-model {} --heads {}", opt.d_model, opt.heads));
  print_title("Chapter 05 · Multi-head attention");
  print_config("tokens", "我 喜欢 在 公园 里 散步 (6), embeddings drawn N(0, 1)");
  print_config("sizes", fmt::format("d_model = {} (--d-model), {} heads (--heads) of d_head = {}",
                                    opt.d_model, opt.heads, opt.d_model / opt.heads));
  print_config("weights", "random like torch.nn.MultiheadAttention's initialisation, W_q and W_k x 4");
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  Figures figures(opt.common);
  const SplitResult split = compute_split(opt);
  show_split(split);
  const HeadsResult heads = compute_heads(opt, rng);
  show_heads(heads, figures);
  const CostResult cost = compute_cost(opt);
  show_cost(cost);
  if (!opt.common.save_dir.empty()) report_results(example_files(heads), opt.common.save_dir);
  const int status = self_checks(split, heads, cost);
  figures.report();
  return status;
}

// --load DIR: torch.nn.MultiheadAttention(E, --heads) on PyTorch's files (pytorch.hpp names them).
struct LoadedResult {
  std::size_t heads = 0;
  MultiHeadResult attention;  // attn_output (L, E), attn_output_weights (H, L, S)
};

LoadedResult compute_loaded(const Options& opt) {
  const AttentionLayerFiles f = load_attention_layer(opt.common.load_dir);
  require_no_unread_files(opt.common.load_dir, {"attn_output", "attn_output_weights"},
                          "torch.nn.MultiheadAttention's files");
  const std::size_t E = f.query.shape(1), H = opt.heads;
  if (E % H != 0) throw usage_error(fmt::format("--heads {} does not divide E = {} of query.npy", H, E));
  require_memory(8.0 * (H + 3) * f.query.shape(0) * f.key.shape(0), "the (H, L, S) weights of these files");
  LoadedResult r;
  r.heads = H;
  const MultiHeadWeights w = {f.in_proj_weight, f.in_proj_bias, f.out_proj_weight, f.out_proj_bias};
  r.attention = multi_head_attention(f.query, f.key, f.value, w, H, f.mask);
  return r;
}

// The weights of the first 4 heads, then attn_output.
std::vector<NamedResult> loaded_results(const LoadedResult& r) {
  return {named_result("attn_output_weights", r.attention.weights,
                       [&r] {
                         for (std::size_t h = 0; h < std::min<std::size_t>(r.heads, 4); ++h)
                           print_matrix(fmt::format("attn_output_weights, head {}", h),
                                        head_weights(r.attention, h));
                       }),
          shown_matrix("attn_output", r.attention.output, "attn_output")};
}

int run_loaded(const Options& opt) {
  const LoadedResult r = compute_loaded(opt);
  print_title(
      fmt::format("Chapter 05 · Multi-head attention ({} heads) on {}", r.heads, opt.common.load_dir));
  report_results(loaded_results(r), opt.common.save_dir);
  print_section("Self-checks");
  SelfChecks checks;
  checks.expect("no NaN", !xt::any(xt::isnan(r.attention.output)));
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 05: multi-head attention, and what heads cost", "ch05_multi_head_attention"};
  Options opt;
  add_flags(app, opt);
  return run_program(app, argc, argv, opt.common, [&] {
    if (!opt.common.load_dir.empty()) return run_loaded(opt);
    return run(opt);
  });
}

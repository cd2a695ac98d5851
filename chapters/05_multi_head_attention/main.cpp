// Chapter 05 — multi-head attention: split d_model into h heads, attend in each, concatenate, project
// with W_o. Per-head heatmaps; parameters and multiply-adds of h heads against one head of width
// d_model, counted; the chunk-size bug; torch.nn.MultiheadAttention through --load/--save.
//
//   build/bin/ch05_multi_head_attention [--d-model E] [--heads H] [--seed S] [--svg DIR]
//                                       [--load DIR] [--save DIR] [--no-color]
#include "cli.hpp"
#include "given/05_multi_head_attention.hpp"
#include "print.hpp"
#include "pytorch.hpp"
#include "rng.hpp"
#include "svg.hpp"

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int d_model = 8;  // E
  int heads = 2;    // H
};

const Labels kTokens = {"我", "喜欢", "在", "公园", "里", "散步"};

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

// "c0-3" for the columns a head owns.
std::string columns(std::size_t from, std::size_t count) {
  return count == 1 ? fmt::format("c{}", from) : fmt::format("c{}-{}", from, from + count - 1);
}

// 1. How the columns are cut into heads, and the common bug.
void show_split(const Options& opt) {
  print_section("1. Splitting d_model into heads");
  const std::size_t E = opt.d_model, H = opt.heads, d_head = E / H;
  fmt::print("split_heads: {} heads of d_head = d_model / heads = {} / {} = {} consecutive columns each\n", H,
             E, H, d_head);
  std::string right;
  for (std::size_t h = 0; h < H; ++h) right += fmt::format("  head {}: {}", h, columns(h * d_head, d_head));
  fmt::print("  right:{}\n", right);
  // The bug: torch.split(x, num_heads, dim=-1) makes chunks OF SIZE num_heads.
  const std::size_t bug_chunks = (E + H - 1) / H;
  std::string wrong;
  for (std::size_t c = 0; c < bug_chunks && c < 6; ++c)
    wrong += fmt::format("  chunk {}: {}", c, columns(c * H, std::min(H, E - c * H)));
  fmt::print("  bug:  {}{}\n", wrong, bug_chunks > 6 ? "  ..." : "");
  fmt::print(
      "Splitting with chunk size num_heads gives {} chunks of width {} instead of {} heads of width {}",
      bug_chunks, H, H, d_head);
  fmt::print("{}\n", bug_chunks == H ? " (the same only when heads² = d_model)." : ".");
  // Show one token split into heads.
  Matrix x = Matrix::from_shape({1, E});
  for (std::size_t c = 0; c < E; ++c) x(0, c) = static_cast<double>(c);
  const Tensor3 heads = split_heads(x, H);
  fmt::print("x = [0 1 ... {}] (1, {}) -> split_heads -> {}\n", E - 1, E, shape_of(heads));
}

// 2. Multi-head self-attention on the sentence, one heatmap per head.
MultiHeadResult show_heads(const Options& opt, const Matrix& x, const MultiHeadWeights& w) {
  print_section(fmt::format("2. {} heads, each attending in its own {}-wide slice of the projected Q, K, V",
                            opt.heads, opt.d_model / opt.heads));
  const MultiHeadResult r = multi_head_attention(x, x, x, w, opt.heads, no_mask(x.shape(0), x.shape(0)));
  const std::size_t shown = std::min<std::size_t>(opt.heads, 4);
  for (std::size_t h = 0; h < shown; ++h) {
    print_heatmap(fmt::format("head {} weights", h), Matrix(xt::view(r.weights, h, xt::all(), xt::all())),
                  kTokens, kTokens);
  }
  if (shown < static_cast<std::size_t>(opt.heads))
    fmt::print("(heads {}..{} not shown)\n", shown, opt.heads - 1);
  print_matrix("output = concat(head outputs) W_o^T + b_o", r.output, kTokens, {}, 2);
  fmt::print(
      "The heads look at the same tokens through different projections, so they spread their\n"
      "attention differently; W_o mixes what they found.\n");
  if (!opt.common.svg_dir.empty()) {
    for (std::size_t h = 0; h < std::min<std::size_t>(opt.heads, 2); ++h) {
      HeatmapSpec spec;
      spec.title =
          fmt::format("Head {} of {}: attention weights (random weights, E = {})", h, opt.heads, opt.d_model);
      spec.rows = kTokens;
      spec.cols = kTokens;
      spec.row_axis = "query";
      spec.col_axis = "key";
      write_heatmap_svg(opt.common.svg_dir, fmt::format("05-head-{}.svg", h),
                        Matrix(xt::view(r.weights, h, xt::all(), xt::all())), spec);
    }
  }
  return r;
}

// Multiply-adds of multi-head attention, counted step by step from the shapes of every product the
// algorithm performs (projections, each head's two products, the output projection).
struct Cost {
  double params = 0, projections = 0, scores = 0, mixing = 0;
  double score_bytes = 0;  // the (H, L, S) score tensor in float64, what the forward pass stores
  double total() const { return projections + scores + mixing; }
};

Cost count_cost(std::size_t L, std::size_t S, std::size_t E, std::size_t H) {
  Cost c;
  const auto product = [](double rows, double inner, double cols) { return rows * inner * cols; };
  // parameters: in_proj (3E, E) + (3E), out_proj (E, E) + (E) — whatever H is
  c.params = 3.0 * E * E + 3.0 * E + 1.0 * E * E + E;
  // 1. Q, K, V projections and 4. the output projection
  c.projections = product(L, E, E) + product(S, E, E) + product(S, E, E) + product(L, E, E);
  const std::size_t d_head = E / H;
  for (std::size_t h = 0; h < H; ++h) {
    c.scores += product(L, d_head, S);  // 2. Q_h K_h^T
    c.mixing += product(L, S, d_head);  // 3. weights_h V_h
    c.score_bytes += 8.0 * L * S;       // one (L, S) matrix of doubles per head
  }
  return c;
}

// 3. Parameters and multiply-adds: h heads against one head of width d_model.
bool show_cost(const Options& opt) {
  print_section("3. What heads cost: parameters, multiply-adds and score memory, counted");
  const std::size_t L = 6, E = opt.d_model;
  fmt::print(
      "L = S = {} tokens, d_model = {}. Multiply-adds of every product in the forward pass, and the\n"
      "bytes of the (H, L, S) score tensor (float64):\n\n",
      L, E);
  fmt::print("{:>6} {:>7} {:>11} {:>16} {:>11} {:>12} {:>8} {:>13}\n", "heads", "d_head", "parameters",
             "Q,K,V,out proj", "Q_h K_h^T", "weights V_h", "total", "scores bytes");
  bool same = true;
  const Cost one = count_cost(L, L, E, 1);
  for (std::size_t h = 1; h <= E; ++h) {
    if (E % h != 0) continue;
    const Cost c = count_cost(L, L, E, h);
    same = same && c.params == one.params && c.total() == one.total() && c.score_bytes == h * one.score_bytes;
    fmt::print("{:>6} {:>7} {:>11} {:>16} {:>11} {:>12} {:>8} {:>13}\n", h, E / h, c.params, c.projections,
               c.scores, c.mixing, c.total(), c.score_bytes);
  }
  fmt::print(
      "\nThe parameters and the multiply-adds are the same in every row: h heads of width d_model/h\n"
      "cost what one head of width d_model costs, so heads do not make attention cheaper. What\n"
      "grows is the score tensor: h matrices of L x S instead of one, so its memory and the traffic\n"
      "to write and read it (scores, softmax, weights) grow h-fold (chapter 08: 512 MiB for 8 heads\n"
      "over a 64 x 64 map against 64 MiB for one).\n");
  return same;
}

// --load DIR: torch.nn.MultiheadAttention(E, --heads) on PyTorch's files.
int run_loaded(const Options& opt) {
  const AttentionLayerFiles f = load_attention_layer(opt.common.load_dir);
  const std::size_t E = f.query.shape(1), H = opt.heads;
  if (E % H != 0) throw usage_error(fmt::format("--heads {} does not divide E = {} of query.npy", H, E));
  require_memory(8.0 * (H + 3) * f.query.shape(0) * f.key.shape(0), "the (H, L, S) weights of these files");
  print_title(fmt::format("Chapter 05 · Multi-head attention ({} heads) on {}", H, opt.common.load_dir));
  const MultiHeadResult r =
      multi_head_attention(f.query, f.key, f.value,
                           {f.in_proj_weight, f.in_proj_bias, f.out_proj_weight, f.out_proj_bias}, H, f.mask);
  require_finite_result("attn_output_weights", r.weights);  // an overflow is bad input, never a printed NaN
  require_finite_result("attn_output", r.output);
  for (std::size_t h = 0; h < std::min<std::size_t>(H, 4); ++h)
    print_matrix(fmt::format("attn_output_weights, head {}", h),
                 Matrix(xt::view(r.weights, h, xt::all(), xt::all())));
  print_matrix("attn_output", r.output);
  if (!opt.common.save_dir.empty()) {
    save_npy(opt.common.save_dir, "attn_output", r.output);
    save_npy(opt.common.save_dir, "attn_output_weights", r.weights);
    fmt::print("wrote attn_output.npy {} and attn_output_weights.npy {} to {}\n", shape_of(r.output),
               shape_of(r.weights), opt.common.save_dir);
  }
  print_section("Self-checks");
  SelfChecks checks;
  checks.expect("no NaN", !xt::any(xt::isnan(r.output)));
  return checks.exit_code();
}

int run(const Options& opt) {
  if (!opt.common.load_dir.empty()) return run_loaded(opt);
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
  const Matrix x = rng.normal_matrix(kTokens.size(), opt.d_model);
  MultiHeadWeights w = random_multi_head_weights(rng, opt.d_model);
  // Fresh weights give nearly uniform attention; sharpen the query and key projections (rows [0, 2E)
  // of in_proj) as training does, so the heads' patterns are visible.
  xt::view(w.in_proj_weight, xt::range(0, 2 * opt.d_model), xt::all()) *= 4.0;
  show_split(opt);
  const MultiHeadResult r = show_heads(opt, x, w);
  const bool same_cost = show_cost(opt);

  if (!opt.common.save_dir.empty()) {
    // The example as PyTorch files, to check with torch.nn.MultiheadAttention (see the docs).
    save_npy(opt.common.save_dir, "query", x);
    save_npy(opt.common.save_dir, "key", x);
    save_npy(opt.common.save_dir, "value", x);
    save_npy(opt.common.save_dir, "in_proj_weight", w.in_proj_weight);
    save_npy(opt.common.save_dir, "in_proj_bias", w.in_proj_bias);
    save_npy(opt.common.save_dir, "out_proj.weight", w.out_proj_weight);
    save_npy(opt.common.save_dir, "out_proj.bias", w.out_proj_bias);
    save_npy(opt.common.save_dir, "attn_output", r.output);
    save_npy(opt.common.save_dir, "attn_output_weights", r.weights);
    fmt::print("\nwrote the example's inputs, weights and outputs as .npy to {}\n", opt.common.save_dir);
  }

  print_section("Self-checks");
  SelfChecks checks;
  const Matrix sums = xt::sum(r.weights, {2});
  checks.close("every head's rows sum to 1", max_abs_diff(sums, Matrix(xt::ones<double>(sums.shape()))),
               1e-12);
  checks.close("merge_heads(split_heads(x)) = x", max_abs_diff(merge_heads(split_heads(x, opt.heads)), x),
               0.0);
  checks.expect("h heads: same parameters and multiply-adds as one, h times the score bytes", same_cost);
  checks.expect("output shape (L, d_model)", r.output.shape(1) == static_cast<std::size_t>(opt.d_model),
                shape_of(r.output));
  if (!opt.common.svg_dir.empty())
    fmt::print("wrote the heads' heatmaps (05-head-*.svg) to {}\n", opt.common.svg_dir);
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 05: multi-head attention, and what heads cost", "ch05_multi_head_attention"};
  Options opt;
  const int max_d_model = largest_within_limits(&Options::d_model, cost_of);
  add_size_option(app, "--d-model", opt.d_model, "Width E of each token", max_d_model);
  add_size_option(app, "--heads", opt.heads, "Number of heads H (must divide d_model)", max_d_model);
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

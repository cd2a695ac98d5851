// Chapter 11 — the transformer block: layer norm, the position-wise feed-forward network, residual
// connections and an encoder layer that matches torch.nn.TransformerEncoderLayer; post-norm against
// pre-norm through depth, and a likely reason why the paper scales embeddings by sqrt(d_model).
//
//   build/bin/ch11_transformer_block [--seq-len L] [--d-model E] [--heads H] [--d-ff F] [--depth N]
//                                    [--norm-first] [--seed S] [--svg DIR] [--load DIR] [--save DIR]
//
// Each section computes into a named result (compute_...), then prints and draws from it (show_...);
// self_checks() checks the results; run() calls them in order.
#include "05_multi_head_attention/given.hpp"  // multi_head_weight_files
#include "07_positional_encoding/contract.hpp"
#include "11_transformer_block/given.hpp"
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
  int seq_len = 6;  // L, tokens
  int d_model = 8;  // E
  int heads = 2;    // H
  int d_ff = 32;    // F, width of the feed-forward network's hidden layer
  int depth = 12;   // layers in the post-norm vs pre-norm experiment
  bool norm_first = false;
};

// What one encoder layer costs on (L, E) with H heads and a feed-forward width F, in multiply-adds
// (the cost constants are in cli.hpp): the projections (4 L E²) and the feed-forward network (2 L E F),
// through linear(), which copies each weight into fresh memory (4 E² + 2 E F); the scores and the
// weighted sums (2 L² E); every head's (L, L) scores, weights and their copies row by row, seven of
// them in fresh memory (measured on a --load of L = 2400), and H L² exponentials; the layer norms.
double layer_work(double L, double E, double F, double H) {
  return (4.0 * E * E + 2.0 * E * F) * (L + fresh_double) + 2.0 * L * L * E +
         H * L * L * (math_call + 7.0 * fresh_double) + 10.0 * L * E;
}

// What a run needs, estimated from its sizes before it starts, in bytes (8 a double) and multiply-adds.
// Memory alive at the peak, in doubles:
//   4 H L²             multi-head attention's (H, L, L) weights, and while one head runs its (L, L)
//                      scores, their scaled copy, its weights and the bool mask (within 3 L² more)
//   8 L (E + F)        the activations: inside multi-head attention eight (L, E) matrices are alive
//                      together (Q, K, V, their split heads, the heads' outputs, their merge); the
//                      feed-forward's (L, F) hidden layer and its ReLU take 2 L F, so 8 L F leaves room
//                      for the stream and the layer's input and output
//   (depth + 1) P      the parameters of the depth layers of section 4 and the layer of sections 2-3,
//                      P = 4 E² + 2 E F + 10 E: in_proj and out_proj (4 E²), linear1 and linear2 (2 E F),
//                      and the biases and norm vectors (9 E + F, counted as 10 E)
// Work: drawing those depth + 1 layers; 2 depth + 2 encoder layers (post- and pre-norm at each depth,
// section 3's layer and the silent-sublayer check; section 2's feed-forward is less than a layer);
// drawing section 2's x and section 3's src, (L, E) each, and printing src and the output (L, E);
// printing section 1's x and y, (3, E) each; and section 5, fixed: 50 positions at widths 16 .. 1024
// (68 000 normal draws and as many sines or cosines, about 3e6), rounded up to 5e6.
Cost cost_of(const Options& opt) {
  const double L = opt.seq_len, E = opt.d_model, F = opt.d_ff, H = opt.heads, depth = opt.depth;
  const double parameters = 4.0 * E * E + 2.0 * E * F + 10.0 * E;
  return {8.0 * (4.0 * H * L * L + 8.0 * L * (E + F) + (depth + 1) * parameters),
          (depth + 1) * parameters * uniform_draw + (2.0 * depth + 2.0) * layer_work(L, E, F, H) +
              2.0 * L * E * (normal_draw + printed_number) + 6.0 * E * printed_number + 5e6};
}

// The flags, each setting a field of Options (the sizes up to what fits the limits, cost_of).
void add_flags(CLI::App& app, Options& opt) {
  add_size_flag(app, "--seq-len", opt, &Options::seq_len, "Tokens in the example sequence (L)", cost_of);
  const int max_d_model = largest_within_limits(&Options::d_model, cost_of, 2);
  add_size_option(app, "--d-model", opt.d_model, "Width of each token (E)", 2, max_d_model,
                  "at least 2: layer norm of one number is always 0, its own mean");
  add_size_option(app, "--heads", opt.heads, "Attention heads (must divide d_model)", max_d_model);
  add_size_flag(app, "--d-ff", opt, &Options::d_ff, "Hidden width of the feed-forward network (F)", cost_of);
  add_size_flag(app, "--depth", opt, &Options::depth, "Layers in the post-norm vs pre-norm experiment",
                cost_of);
  app.add_flag("--norm-first", opt.norm_first, "Pre-norm (PyTorch's norm_first=True) instead of post-norm");
  add_common_options(app, opt.common, /*interop=*/true);
}

// Root mean square of all entries: the typical size of a number in x.
double rms(const Matrix& x) {
  return std::sqrt(xt::mean(x * x)());
}

// --- 1. Layer norm: every row to mean 0 and variance 1, whatever its scale -----------------------------

// The mean and the standard deviation (divided by E, as layer norm does) of one row, before and after.
struct RowStats {
  double mean_before = 0, std_before = 0, mean_after = 0, std_after = 0;
};

RowStats row_stats(const Matrix& x, const Matrix& y, std::size_t i) {
  const Vector xi = xt::view(x, i), yi = xt::view(y, i);
  RowStats s;
  s.mean_before = xt::mean(xi)();
  s.std_before = std::sqrt(xt::mean((xi - s.mean_before) * (xi - s.mean_before))());
  s.mean_after = xt::mean(yi)();
  s.std_after = std::sqrt(xt::mean((yi - s.mean_after) * (yi - s.mean_after))());
  return s;
}

// Three tokens at very different scales: x0 = 0.01 z0, x1 = z1, x2 = 100 z2 + 50 (z normal), each
// through layer_norm(x, gamma = 1, beta = 0):  y_ij = (x_ij - mean_i) / sqrt(var_i + eps).
struct LayerNormExample {
  Matrix x, y;               // (3, E)
  RowStats tiny, one, huge;  // rows 0, 1, 2
  double eps = kLayerNormEps;
};

LayerNormExample compute_layer_norm(const Options& opt, Rng& rng) {
  const std::size_t E = opt.d_model;
  LayerNormExample e;
  e.x = rng.normal_matrix(3, E);
  for (std::size_t j = 0; j < E; ++j) {
    e.x(0, j) = 0.01 * e.x(0, j);
    e.x(2, j) = 100.0 * e.x(2, j) + 50.0;
  }
  const Vector gamma = xt::ones<double>({E}), beta = xt::zeros<double>({E});
  e.y = layer_norm(e.x, gamma, beta, e.eps);
  e.tiny = row_stats(e.x, e.y, 0);
  e.one = row_stats(e.x, e.y, 1);
  e.huge = row_stats(e.x, e.y, 2);
  return e;
}

void show_layer_norm(const LayerNormExample& e) {
  print_section("1. Layer norm: each token to mean 0 and variance 1");
  const Labels rows = {"x0 (tiny)", "x1", "x2 (huge)"};
  print_matrix("x, three tokens at very different scales", e.x, rows, {}, 4);
  print_matrix("layer_norm(x, gamma = 1, beta = 0)", e.y, rows, {}, 4);
  fmt::print("{:<10} {:>12} {:>12}   {:>9} {:>9}\n", "row", "mean before", "std before", "mean after",
             "std after");
  const auto print_row = [](const std::string& label, const RowStats& s) {
    // + 0.0 turns a mean of -0 into 0: "-0.0000" would suggest a sign that is not there
    fmt::print("{:<10} {:>12.4f} {:>12.4f}   {:>9.4f} {:>9.4f}\n", label, s.mean_before, s.std_before,
               s.mean_after + 0.0, s.std_after);
  };
  print_row(rows[0], e.tiny);
  print_row(rows[1], e.one);
  print_row(rows[2], e.huge);
  // The std after is sqrt(var / (var + eps)): below 1 by a visible amount once var is not far above eps.
  const double var_tiny = e.tiny.std_before * e.tiny.std_before;
  fmt::print(
      "x0: var = {:.2e} is only {:.1f} times eps = {:.0e} (its std is {:.0f} times eps), so its std\n"
      "after is sqrt(var / (var + eps)) = {:.4f}, below 1; for x1 and x2 var / eps is {:.1e} and {:.1e}.\n",
      var_tiny, var_tiny / e.eps, e.eps, e.tiny.std_before / e.eps, std::sqrt(var_tiny / (var_tiny + e.eps)),
      e.one.std_before * e.one.std_before / e.eps, e.huge.std_before * e.huge.std_before / e.eps);
}

// --- 2. The feed-forward network acts on each position alone, with the same weights -------------------

// FF(x) = linear2(relu(linear1(x))), x (L, E) -> (L, F) -> (L, E); the last token alone through FF
// against its row of FF(x).
struct FeedForwardExample {
  std::size_t L = 0, E = 0, F = 0;
  double last_token_difference = 0;  // max |FF(x_last) - FF(x)_last|
  std::size_t parameters = 0;        // in linear1 and linear2
};

FeedForwardExample compute_feed_forward(const Options& opt, Rng& rng, const EncoderLayerWeights& w) {
  FeedForwardExample e;
  e.L = opt.seq_len;
  e.E = opt.d_model;
  e.F = opt.d_ff;
  const Matrix x = rng.normal_matrix(e.L, e.E);
  const Matrix all = feed_forward(x, w);
  const Matrix last_alone = feed_forward(Matrix(xt::view(x, xt::range(e.L - 1, e.L))), w);
  e.last_token_difference = max_abs_diff(Matrix(xt::view(all, xt::range(e.L - 1, e.L))), last_alone);
  e.parameters =
      w.linear1_weight.size() + w.linear1_bias.size() + w.linear2_weight.size() + w.linear2_bias.size();
  return e;
}

void show_feed_forward(const FeedForwardExample& e) {
  print_section("2. The position-wise feed-forward network");
  fmt::print("FF(x) = linear2(relu(linear1(x))):  ({}, {}) -> ({}, {}) -> ({}, {})\n", e.L, e.E, e.L, e.F,
             e.L, e.E);
  fmt::print("FF of the last token alone vs its row in FF(x): max difference {:.1e}\n",
             e.last_token_difference);
  fmt::print("Only attention mixes positions; FF transforms each token with the same {} parameters.\n",
             e.parameters);
}

// --- 3. One encoder layer, post-norm or pre-norm, on a random input ------------------------------------

// encoder_layer (chapter 11) on src (L, E)  ->  out (L, E):
//   post-norm (PyTorch's default): x = norm1(x + SA(x));  x = norm2(x + FF(x))
//   pre-norm (--norm-first):        x = x + SA(norm1(x));  x = x + FF(norm2(x))
// and the residual path alone: pre-norm with the sublayers' output projections zeroed is the identity.
struct EncoderExample {
  bool norm_first = false;
  int heads = 0;
  Matrix src, out;               // (L, E)
  double silent_difference = 0;  // max |layer(src) - src| with silent sublayers, pre-norm
};

EncoderExample compute_encoder_layer(const Options& opt, Rng& rng, const EncoderLayerWeights& w) {
  EncoderExample e;
  e.norm_first = opt.norm_first;
  e.heads = opt.heads;
  e.src = rng.normal_matrix(opt.seq_len, opt.d_model);
  const std::size_t L = e.src.shape(0);
  e.out = encoder_layer(e.src, w, opt.heads, opt.norm_first, no_mask(L, L));
  EncoderLayerWeights silent = w;
  silent.self_attn.out_proj_weight.fill(0.0);
  silent.self_attn.out_proj_bias.fill(0.0);
  silent.linear2_weight.fill(0.0);
  silent.linear2_bias.fill(0.0);
  e.silent_difference = max_abs_diff(encoder_layer(e.src, silent, opt.heads, true, no_mask(L, L)), e.src);
  return e;
}

void show_encoder_layer(const EncoderExample& e) {
  print_section(fmt::format("3. One encoder layer ({}, {} heads)",
                            e.norm_first ? "pre-norm: --norm-first" : "post-norm: PyTorch's default",
                            e.heads));
  if (e.norm_first) {
    fmt::print("x = x + SA(norm1(x));  x = x + FF(norm2(x))\n");
  } else {
    fmt::print("x = norm1(x + SA(x));  x = norm2(x + FF(x))\n");
  }
  const Labels rows = numbered("t", e.src.shape(0));
  print_matrix("src", e.src, rows, {}, 4);
  print_matrix("encoder_layer(src)", e.out, rows, {}, 4);
}

// --- 4. Post-norm vs pre-norm through a stack of layers: the size of the residual stream ---------------

struct DepthResult {
  std::vector<double> post, pre;  // RMS of the stream after layer 1, 2, ..., depth
};

// depth random layers (their own Rng, seed + 1000), each applied post-norm to one stream and pre-norm to
// another, both starting from src.
DepthResult compute_depth(const Options& opt, const Matrix& src) {
  Rng rng(opt.common.seed + 1000);
  std::vector<EncoderLayerWeights> stack;
  for (int i = 0; i < opt.depth; ++i) stack.push_back(random_encoder_layer(rng, opt.d_model, opt.d_ff));
  const std::size_t L = src.shape(0);
  DepthResult r;
  Matrix x_post = src, x_pre = src;
  for (const EncoderLayerWeights& layer : stack) {
    x_post = encoder_layer(x_post, layer, opt.heads, false, no_mask(L, L));
    x_pre = encoder_layer(x_pre, layer, opt.heads, true, no_mask(L, L));
    r.post.push_back(rms(x_post));
    r.pre.push_back(rms(x_pre));
  }
  return r;
}

void show_depth(const DepthResult& r, Figures& figures) {
  print_section(fmt::format("4. Post-norm vs pre-norm through {} layers", r.post.size()));
  fmt::print("{:>6} {:>18} {:>18}\n", "layer", "RMS post-norm", "RMS pre-norm");
  std::vector<double> layers;
  for (std::size_t i = 0; i < r.post.size(); ++i) {
    fmt::print("{:>6} {:>18.4f} {:>18.4f}\n", i + 1, r.post[i], r.pre[i]);
    layers.push_back(static_cast<double>(i + 1));
  }
  fmt::print("Post-norm ends every layer with a LayerNorm: the stream stays at RMS about 1.\n");
  fmt::print("Pre-norm only adds to the stream: it grows with depth, and the input keeps a direct path to\n");
  fmt::print("the output (the sum of residuals), which is what keeps deep pre-norm stacks easy to train.\n");
  const PlotSpec spec{"Size of the residual stream through the layers", "layer", "RMS of x"};
  figures.line_plot("11-residual-stream.svg", layers, {{"post-norm", r.post}, {"pre-norm", r.pre}}, spec);
}

// --- 5. Why multiply embeddings by sqrt(d_model)? --------------------------------------------------------
// A likely reason (the paper gives none): the sizes of token embeddings and of positional encodings,
// measured. An embedding table drawn N(0, 1/d) (RMS 1/sqrt(d)) against sinusoidal positions (half sines,
// half cosines: RMS about 1/sqrt(2) whatever d) for 50 positions.

struct EmbeddingScale {
  std::vector<double> d_model;           // 16, 64, 256, 1024
  std::vector<double> embedding;         // RMS of the embeddings
  std::vector<double> positions;         // RMS of the positional encodings
  std::vector<double> scaled_embedding;  // RMS of sqrt(d) times the embeddings
};

EmbeddingScale compute_embedding_scale(const Options& opt) {
  Rng rng(opt.common.seed + 2000);
  EmbeddingScale s;
  for (std::size_t d : {16, 64, 256, 1024}) {
    const Matrix embed = rng.normal_matrix(50, d) / std::sqrt(static_cast<double>(d));
    s.d_model.push_back(static_cast<double>(d));
    s.embedding.push_back(rms(embed));
    s.positions.push_back(rms(sinusoidal_encoding(50, d)));
    s.scaled_embedding.push_back(rms(embed * std::sqrt(static_cast<double>(d))));
  }
  return s;
}

void show_embedding_scale(const EmbeddingScale& s, Figures& figures) {
  print_section("5. Why multiply embeddings by sqrt(d_model)? A reconstruction: the paper gives no reason");
  fmt::print("Assumed: an embedding table drawn N(0, 1/d_model), the scale of the output layer it is\n");
  fmt::print("shared with; sinusoidal positions for 50 positions. RMS = typical size of one entry.\n");
  fmt::print("{:>8} {:>14} {:>10} {:>22} {:>16}\n", "d_model", "RMS embedding", "RMS PE",
             "RMS sqrt(d) * embed.", "PE / embedding");
  for (std::size_t i = 0; i < s.d_model.size(); ++i) {
    fmt::print("{:>8} {:>14.4f} {:>10.4f} {:>22.4f} {:>16.2f}\n", s.d_model[i], s.embedding[i],
               s.positions[i], s.scaled_embedding[i], s.positions[i] / s.embedding[i]);
  }
  fmt::print(
      "Under that assumption, unscaled positions are sqrt(d_model / 2) times larger than the tokens\n"
      "and drown them out; times sqrt(d_model) the tokens have RMS about 1, the positions 1/sqrt(2).\n");
  const PlotSpec spec{"Token embeddings vs sinusoidal positions", "d_model", "RMS of one entry",
                      /*log2_x=*/true, /*log10_y=*/true};
  figures.line_plot(
      "11-embedding-scale.svg", s.d_model,
      {{"embedding", s.embedding}, {"positions", s.positions}, {"sqrt(d) * embedding", s.scaled_embedding}},
      spec);
}

// --- Self-checks, --save and the run ---------------------------------------------------------------------

int self_checks(const Options& opt, const LayerNormExample& norm, const FeedForwardExample& ff,
                const EncoderExample& layer, const DepthResult& depth) {
  print_section("Self-checks");
  SelfChecks checks;
  const double worst_mean = std::max(
      {std::abs(norm.tiny.mean_after), std::abs(norm.one.mean_after), std::abs(norm.huge.mean_after)});
  checks.close("layer norm rows have mean 0", worst_mean, 1e-12);
  checks.close("feed-forward acts on each position alone", ff.last_token_difference, 1e-15);
  checks.close("pre-norm with silent sublayers is the identity", layer.silent_difference, 0.0);
  checks.expect("post-norm keeps the stream at RMS about 1", std::abs(depth.post.back() - 1.0) < 0.25,
                fmt::format("RMS {:.3f} after {} layers", depth.post.back(), depth.post.size()));
  // The growth is a trend of random sublayers, not a rule: over few layers, or few numbers per layer
  // (L x E), or with narrow tokens (layer norm of 2 or 4 numbers gives every token nearly the same
  // input), the stream can also shrink. tools/fuzz_flags.sh found it reliable from 12 layers, E >= 8
  // and L x E >= 48 (the defaults).
  if (opt.depth >= 12 && opt.d_model >= 8 && opt.seq_len * opt.d_model >= 48) {
    checks.expect("pre-norm's stream grows with depth", depth.pre.back() > depth.pre.front(),
                  fmt::format("RMS {:.3f} -> {:.3f}", depth.pre.front(), depth.pre.back()));
  } else {
    fmt::print(
        "pre-norm's growth: not checked (it is a trend, reliable with --depth 12 or more, --d-model 8 or "
        "more and --seq-len x --d-model 48 or more)\n");
  }
  checks.expect("the output has the input's shape", layer.out.shape() == layer.src.shape(),
                shape_of(layer.out));
  return checks.exit_code();
}

// --save DIR: section 3's src, the layer as PyTorch's state_dict keys (one .npy per key) and its output;
// `--load DIR` (or torch.nn.TransformerEncoderLayer with that state_dict) reproduces the output.
std::vector<NamedResult> example_files(const EncoderExample& e, const EncoderLayerWeights& w) {
  std::vector<NamedResult> files = {named_result("src", e.src)};
  for (const NamedResult& f : multi_head_weight_files(w.self_attn, "self_attn.")) files.push_back(f);
  files.push_back(named_result("linear1.weight", w.linear1_weight));
  files.push_back(named_result("linear1.bias", w.linear1_bias));
  files.push_back(named_result("linear2.weight", w.linear2_weight));
  files.push_back(named_result("linear2.bias", w.linear2_bias));
  files.push_back(named_result("norm1.weight", w.norm1_weight));
  files.push_back(named_result("norm1.bias", w.norm1_bias));
  files.push_back(named_result("norm2.weight", w.norm2_weight));
  files.push_back(named_result("norm2.bias", w.norm2_bias));
  files.push_back(named_result("output", e.out));
  return files;
}

// --load DIR: the layer on PyTorch's weights (state_dict keys, one .npy each) and src.npy (L, E);
// --save DIR writes output.npy (L, E).
int run_loaded(const Options& opt) {
  const std::string& dir = opt.common.load_dir;
  const Matrix src = load_matrix(dir, "src", "(L, E)");
  const EncoderLayerWeights w = load_encoder_layer(dir);
  require_no_unread_files(dir, {"output"}, "torch.nn.TransformerEncoderLayer's files");
  const std::size_t E = w.self_attn.in_proj_weight.shape(1);
  require_shape("src.npy", src, {src.shape(0), E}, "(L, E)");
  if (E % static_cast<std::size_t>(opt.heads) != 0) {
    throw usage_error(
        fmt::format("--heads {} does not divide E = {} (from self_attn.in_proj_weight.npy)", opt.heads, E));
  }
  // One layer on these shapes, estimated before it runs: the (H, L, L) weights and (L, E), (L, F)
  // activations; 8 rows printed.
  const double rows = src.shape(0), F = w.linear1_weight.shape(0), H = opt.heads;
  require_within_limits({8.0 * (4.0 * H * rows * rows + 8.0 * rows * (E + F)),
                         layer_work(rows, E, F, H) + 8.0 * E * printed_number},
                        fmt::format("one layer on src.npy ({}, {}) with F = {} and --heads {}", src.shape(0),
                                    E, w.linear1_weight.shape(0), opt.heads));
  const std::size_t L = src.shape(0);
  const Matrix out = encoder_layer(src, w, opt.heads, opt.norm_first, no_mask(L, L));

  print_title("Chapter 11 · TransformerEncoderLayer on loaded weights");
  print_config("loaded from", dir);
  print_config("shapes",
               fmt::format("L = {}, E = {}, F = {}, heads = {}, {}", L, E, w.linear1_weight.shape(0),
                           opt.heads, opt.norm_first ? "pre-norm" : "post-norm"));
  // its first 8 rows, with 6 decimals
  report_results(
      {named_result("output", out,
                    [&out, L] {
                      print_matrix("output", Matrix(xt::view(out, xt::range(0, std::min<std::size_t>(L, 8)))),
                                   {}, {}, 6);
                      if (L > 8) fmt::print("(first 8 of {} rows)\n", L);
                    })},
      opt.common.save_dir);
  return 0;
}

int run(const Options& opt) {
  if (opt.d_model % opt.heads != 0) {
    throw usage_error(fmt::format("--heads {} does not divide --d-model {}", opt.heads, opt.d_model));
  }
  if (!opt.common.load_dir.empty()) return run_loaded(opt);
  require_within_limits(cost_of(opt), fmt::format("--seq-len {} --d-model {} --heads {} --d-ff {} --depth {}",
                                                  opt.seq_len, opt.d_model, opt.heads, opt.d_ff, opt.depth));
  print_title("Chapter 11 · The transformer block");
  print_config(
      "sizes",
      fmt::format("L = {} tokens, d_model = {}, {} heads, d_ff = {} (--seq-len --d-model --heads --d-ff)",
                  opt.seq_len, opt.d_model, opt.heads, opt.d_ff));
  print_config("layer", opt.norm_first ? "pre-norm (--norm-first)" : "post-norm (default)");
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  Figures figures(opt.common);
  const EncoderLayerWeights w = random_encoder_layer(rng, opt.d_model, opt.d_ff);  // sections 2 and 3
  const LayerNormExample norm = compute_layer_norm(opt, rng);
  show_layer_norm(norm);
  const FeedForwardExample ff = compute_feed_forward(opt, rng, w);
  show_feed_forward(ff);
  const EncoderExample layer = compute_encoder_layer(opt, rng, w);
  show_encoder_layer(layer);
  const DepthResult depth = compute_depth(opt, layer.src);
  show_depth(depth, figures);
  const EmbeddingScale embedding = compute_embedding_scale(opt);
  show_embedding_scale(embedding, figures);
  const int status = self_checks(opt, norm, ff, layer, depth);
  if (!opt.common.save_dir.empty()) report_results(example_files(layer, w), opt.common.save_dir);
  figures.report();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 11: layer norm, feed-forward, residuals and the transformer encoder layer",
               "ch11_transformer_block"};
  Options opt;
  add_flags(app, opt);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

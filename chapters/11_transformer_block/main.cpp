// Chapter 11 — the transformer block: layer norm, the position-wise feed-forward network, residual
// connections and an encoder layer that matches torch.nn.TransformerEncoderLayer; post-norm against
// pre-norm through depth, and a likely reason why the paper scales embeddings by sqrt(d_model).
//
//   build/bin/ch11_transformer_block [--seq-len L] [--d-model E] [--heads H] [--d-ff F] [--depth N]
//                                    [--norm-first] [--seed S] [--svg DIR] [--load DIR] [--save DIR]
#include "cli.hpp"
#include "contracts/07_positional_encoding.hpp"
#include "given/11_transformer_block.hpp"
#include "print.hpp"
#include "pytorch.hpp"
#include "rng.hpp"
#include "svg.hpp"

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

constexpr double kEps = 1e-5;  // PyTorch's layer_norm_eps

// What one encoder layer costs on (L, E) with H heads and a feed-forward width F, in multiply-adds
// (the cost constants are in cli.hpp): the projections (4 L E²) and the feed-forward network (2 L E F),
// through linear(), which copies each weight into fresh memory (4 E² + 2 E F); the scores and the
// weighted sums (2 L² E); every head's scores, weights and masks, (H, L, L) four times in fresh
// memory, and H L² exponentials; the two layer norms.
double layer_work(double L, double E, double F, double H) {
  return (4.0 * E * E + 2.0 * E * F) * (L + fresh_double) + 2.0 * L * L * E +
         H * L * L * (math_call + 4.0 * fresh_double) + 10.0 * L * E;
}

// What a run needs, estimated from its sizes before it starts. Alive at the peak: the attention
// weights (H, L, L), a few (L, E) and (L, F) activations, and the --depth layers' parameters. The
// work: drawing depth + 1 layers, 2 depth + 2 encoder layers, printing src and the output (L, E),
// and section 5 (fixed: 50 positions of widths up to 1024).
Cost cost_of(const Options& opt) {
  const double L = opt.seq_len, E = opt.d_model, F = opt.d_ff, H = opt.heads, depth = opt.depth;
  const double parameters = 4.0 * E * E + 2.0 * E * F + 10.0 * E;
  return {8.0 * (4.0 * H * L * L + 8.0 * L * (E + F) + (depth + 1) * parameters),
          (depth + 1) * parameters * uniform_draw + (2.0 * depth + 2.0) * layer_work(L, E, F, H) +
              2.0 * L * E * (normal_draw + printed_number) + 6.0 * E * printed_number + 5e6};
}

// Writes the layer as PyTorch's state_dict keys, one .npy per key.
void save_encoder_layer(const std::string& dir, const EncoderLayerWeights& w) {
  save_npy(dir, "self_attn.in_proj_weight", w.self_attn.in_proj_weight);
  save_npy(dir, "self_attn.in_proj_bias", w.self_attn.in_proj_bias);
  save_npy(dir, "self_attn.out_proj.weight", w.self_attn.out_proj_weight);
  save_npy(dir, "self_attn.out_proj.bias", w.self_attn.out_proj_bias);
  save_npy(dir, "linear1.weight", w.linear1_weight);
  save_npy(dir, "linear1.bias", w.linear1_bias);
  save_npy(dir, "linear2.weight", w.linear2_weight);
  save_npy(dir, "linear2.bias", w.linear2_bias);
  save_npy(dir, "norm1.weight", w.norm1_weight);
  save_npy(dir, "norm1.bias", w.norm1_bias);
  save_npy(dir, "norm2.weight", w.norm2_weight);
  save_npy(dir, "norm2.bias", w.norm2_bias);
}

// Root mean square of all entries: the typical size of a number in x.
double rms(const Matrix& x) {
  return std::sqrt(xt::mean(x * x)());
}

// 1. Layer norm: every row to mean 0 and variance 1, whatever its scale.
double show_layer_norm(const Options& opt, Rng& rng) {
  print_section("1. Layer norm: each token to mean 0 and variance 1");
  const std::size_t E = opt.d_model;
  Matrix x = rng.normal_matrix(3, E);
  const double scales[] = {0.01, 1.0, 100.0};
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < E; ++j) x(i, j) = scales[i] * x(i, j) + (i == 2 ? 50.0 : 0.0);
  const Vector ones = xt::ones<double>({E}), zeros = xt::zeros<double>({E});
  const Matrix y = layer_norm(x, ones, zeros, kEps);
  const Labels rows = {"x0 (tiny)", "x1", "x2 (huge)"};
  print_matrix("x, three tokens at very different scales", x, rows, {}, 4);
  print_matrix("layer_norm(x, gamma = 1, beta = 0)", y, rows, {}, 4);
  fmt::print("{:<10} {:>12} {:>12}   {:>9} {:>9}\n", "row", "mean before", "std before", "mean after",
             "std after");
  double worst = 0.0, var[3] = {};
  for (std::size_t i = 0; i < 3; ++i) {
    const Vector xi = xt::view(x, i), yi = xt::view(y, i);
    const double mx = xt::mean(xi)(), sx = std::sqrt(xt::mean((xi - mx) * (xi - mx))());
    const double my = xt::mean(yi)(), sy = std::sqrt(xt::mean((yi - my) * (yi - my))());
    fmt::print("{:<10} {:>12.4f} {:>12.4f}   {:>9.4f} {:>9.4f}\n", rows[i], mx, sx, my + 0.0, sy);
    worst = std::max(worst, std::abs(my));
    var[i] = sx * sx;  // divided by E, as layer norm does
  }
  // The std after is sqrt(var / (var + eps)): below 1 by a visible amount once var is not far above eps.
  fmt::print(
      "x0: var = {:.2e} is only {:.1f} times eps = {:.0e} (its std is {:.0f} times eps), so its std\n"
      "after is sqrt(var / (var + eps)) = {:.4f}, below 1; for x1 and x2 var / eps is {:.1e} and {:.1e}.\n",
      var[0], var[0] / kEps, kEps, std::sqrt(var[0]) / kEps, std::sqrt(var[0] / (var[0] + kEps)),
      var[1] / kEps, var[2] / kEps);
  return worst;
}

// 2. The feed-forward network acts on each position alone, with the same weights.
double show_feed_forward(const Options& opt, Rng& rng, const EncoderLayerWeights& w) {
  print_section("2. The position-wise feed-forward network");
  const std::size_t L = opt.seq_len;
  const Matrix x = rng.normal_matrix(L, opt.d_model);
  fmt::print("FF(x) = linear2(relu(linear1(x))):  ({}, {}) -> ({}, {}) -> ({}, {})\n", L, opt.d_model, L,
             opt.d_ff, L, opt.d_model);
  // the last token alone gives the same row as in the whole sequence: positions do not mix here
  const Matrix all = feed_forward(x, w);
  const Matrix last_alone = feed_forward(Matrix(xt::view(x, xt::range(L - 1, L))), w);
  const double diff = max_abs_diff(Matrix(xt::view(all, xt::range(L - 1, L))), last_alone);
  fmt::print("FF of the last token alone vs its row in FF(x): max difference {:.1e}\n", diff);
  fmt::print(
      "Only attention mixes positions; FF transforms each token with the same {} parameters.\n",
      w.linear1_weight.size() + w.linear1_bias.size() + w.linear2_weight.size() + w.linear2_bias.size());
  return diff;
}

// 3. One encoder layer, post-norm or pre-norm, on a random input.
Matrix show_encoder_layer(const Options& opt, const Matrix& src, const EncoderLayerWeights& w) {
  print_section(fmt::format("3. One encoder layer ({}, {} heads)",
                            opt.norm_first ? "pre-norm: --norm-first" : "post-norm: PyTorch's default",
                            opt.heads));
  const std::size_t L = src.shape(0);
  const Labels rows = numbered("t", L);
  if (opt.norm_first) {
    fmt::print("x = x + SA(norm1(x));  x = x + FF(norm2(x))\n");
  } else {
    fmt::print("x = norm1(x + SA(x));  x = norm2(x + FF(x))\n");
  }
  print_matrix("src", src, rows, {}, 4);
  const Matrix out = encoder_layer(src, w, opt.heads, opt.norm_first, no_mask(L, L));
  print_matrix("encoder_layer(src)", out, rows, {}, 4);
  return out;
}

// 4. Post-norm vs pre-norm through a stack of layers: the size of the residual stream.
std::pair<std::vector<double>, std::vector<double>> show_depth(const Options& opt, const Matrix& src) {
  print_section(fmt::format("4. Post-norm vs pre-norm through {} layers", opt.depth));
  Rng rng(opt.common.seed + 1000);
  std::vector<EncoderLayerWeights> stack;
  for (int i = 0; i < opt.depth; ++i) stack.push_back(random_encoder_layer(rng, opt.d_model, opt.d_ff));
  const std::size_t L = src.shape(0);
  std::vector<double> post, pre;
  Matrix x_post = src, x_pre = src;
  fmt::print("{:>6} {:>18} {:>18}\n", "layer", "RMS post-norm", "RMS pre-norm");
  for (int i = 0; i < opt.depth; ++i) {
    x_post = encoder_layer(x_post, stack[i], opt.heads, false, no_mask(L, L));
    x_pre = encoder_layer(x_pre, stack[i], opt.heads, true, no_mask(L, L));
    post.push_back(rms(x_post));
    pre.push_back(rms(x_pre));
    fmt::print("{:>6} {:>18.4f} {:>18.4f}\n", i + 1, post.back(), pre.back());
  }
  fmt::print("Post-norm ends every layer with a LayerNorm: the stream stays at RMS about 1.\n");
  fmt::print("Pre-norm only adds to the stream: it grows with depth, and the input keeps a direct path to\n");
  fmt::print("the output (the sum of residuals), which is what keeps deep pre-norm stacks easy to train.\n");
  return {post, pre};
}

// 5. A likely reason (the paper gives none) why it multiplies embeddings by sqrt(d_model): the sizes
// of token embeddings and of positional encodings, measured.
std::vector<std::vector<double>> show_embedding_scale(const Options& opt) {
  print_section("5. Why multiply embeddings by sqrt(d_model)? A reconstruction: the paper gives no reason");
  fmt::print("Assumed: an embedding table drawn N(0, 1/d_model), the scale of the output layer it is\n");
  fmt::print("shared with; sinusoidal positions for 50 positions. RMS = typical size of one entry.\n");
  fmt::print("{:>8} {:>14} {:>10} {:>22} {:>16}\n", "d_model", "RMS embedding", "RMS PE",
             "RMS sqrt(d) * embed.", "PE / embedding");
  std::vector<std::vector<double>> series(3);
  Rng rng(opt.common.seed + 2000);
  for (std::size_t d : {16, 64, 256, 1024}) {
    const Matrix embed = rng.normal_matrix(50, d) / std::sqrt(static_cast<double>(d));
    const Matrix pe = sinusoidal_encoding(50, d);
    const double e = rms(embed), p = rms(pe), scaled = rms(embed * std::sqrt(static_cast<double>(d)));
    fmt::print("{:>8} {:>14.4f} {:>10.4f} {:>22.4f} {:>16.2f}\n", d, e, p, scaled, p / e);
    series[0].push_back(e);
    series[1].push_back(p);
    series[2].push_back(scaled);
  }
  fmt::print(
      "Under that assumption, unscaled positions are sqrt(d_model / 2) times larger than the tokens\n"
      "and drown them out; times sqrt(d_model) the tokens have RMS about 1, the positions 1/sqrt(2).\n");
  return series;
}

// --load DIR: run the layer on PyTorch's weights and write output.npy.
int run_loaded(const Options& opt) {
  const std::string& dir = opt.common.load_dir;
  const Matrix src = load_matrix(dir, "src", "(L, E)");
  const EncoderLayerWeights w = load_encoder_layer(dir);
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
  print_title("Chapter 11 · TransformerEncoderLayer on loaded weights");
  print_config("loaded from", dir);
  print_config("shapes",
               fmt::format("L = {}, E = {}, F = {}, heads = {}, {}", src.shape(0), E,
                           w.linear1_weight.shape(0), opt.heads, opt.norm_first ? "pre-norm" : "post-norm"));
  const std::size_t L = src.shape(0);
  const Matrix out = encoder_layer(src, w, opt.heads, opt.norm_first, no_mask(L, L));
  require_finite_result("the output", out);  // an overflow is bad input, never a printed NaN
  print_matrix("output", Matrix(xt::view(out, xt::range(0, std::min<std::size_t>(L, 8)))), {}, {}, 6);
  if (L > 8) fmt::print("(first 8 of {} rows)\n", L);
  if (!opt.common.save_dir.empty()) {
    save_npy(opt.common.save_dir, "output", out);
    fmt::print("wrote {}/output.npy\n", opt.common.save_dir);
  }
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
  const EncoderLayerWeights w = random_encoder_layer(rng, opt.d_model, opt.d_ff);
  SelfChecks checks;
  const double ln_mean = show_layer_norm(opt, rng);
  const double ff_diff = show_feed_forward(opt, rng, w);
  const Matrix src = rng.normal_matrix(opt.seq_len, opt.d_model);
  const Matrix out = show_encoder_layer(opt, src, w);
  const auto [post, pre] = show_depth(opt, src);
  const auto embedding = show_embedding_scale(opt);

  print_section("Self-checks");
  checks.close("layer norm rows have mean 0", ln_mean, 1e-12);
  checks.close("feed-forward acts on each position alone", ff_diff, 1e-15);
  const std::size_t L = opt.seq_len;
  // Pre-norm with the sublayers' output projections zeroed is the identity: the residual path.
  EncoderLayerWeights silent = w;
  silent.self_attn.out_proj_weight.fill(0.0);
  silent.self_attn.out_proj_bias.fill(0.0);
  silent.linear2_weight.fill(0.0);
  silent.linear2_bias.fill(0.0);
  checks.close("pre-norm with silent sublayers is the identity",
               max_abs_diff(encoder_layer(src, silent, opt.heads, true, no_mask(L, L)), src), 0.0);
  checks.expect("post-norm keeps the stream at RMS about 1", std::abs(post.back() - 1.0) < 0.25,
                fmt::format("RMS {:.3f} after {} layers", post.back(), opt.depth));
  // The growth is a trend of random sublayers, not a rule: over few layers, or few numbers per layer
  // (L x E), or with narrow tokens (layer norm of 2 or 4 numbers gives every token nearly the same
  // input), the stream can also shrink. tools/fuzz_flags.sh found it reliable from 12 layers, E >= 8
  // and L x E >= 48 (the defaults).
  if (opt.depth >= 12 && opt.d_model >= 8 && opt.seq_len * opt.d_model >= 48) {
    checks.expect("pre-norm's stream grows with depth", pre.back() > pre.front(),
                  fmt::format("RMS {:.3f} -> {:.3f}", pre.front(), pre.back()));
  } else {
    fmt::print(
        "pre-norm's growth: not checked (it is a trend, reliable with --depth 12 or more, --d-model 8 or "
        "more and --seq-len x --d-model 48 or more)\n");
  }
  checks.expect("the output has the input's shape", out.shape() == src.shape(), shape_of(out));

  if (!opt.common.save_dir.empty()) {
    save_npy(opt.common.save_dir, "src", src);
    save_encoder_layer(opt.common.save_dir, w);
    save_npy(opt.common.save_dir, "output", out);
    fmt::print("wrote src.npy, the layer's state_dict (*.npy) and output.npy to {}\n", opt.common.save_dir);
  }
  if (!opt.common.svg_dir.empty()) {
    std::vector<double> layers;
    for (int i = 1; i <= opt.depth; ++i) layers.push_back(i);
    PlotSpec depth_plot;
    depth_plot.title = "Size of the residual stream through the layers";
    depth_plot.x_label = "layer";
    depth_plot.y_label = "RMS of x";
    write_line_plot_svg(opt.common.svg_dir, "11-residual-stream.svg", layers,
                        {{"post-norm", post}, {"pre-norm", pre}}, depth_plot);
    PlotSpec scale_plot;
    scale_plot.title = "Token embeddings vs sinusoidal positions";
    scale_plot.x_label = "d_model";
    scale_plot.y_label = "RMS of one entry";
    scale_plot.log2_x = true;
    scale_plot.log10_y = true;
    write_line_plot_svg(
        opt.common.svg_dir, "11-embedding-scale.svg", {16, 64, 256, 1024},
        {{"embedding", embedding[0]}, {"positions", embedding[1]}, {"sqrt(d) * embedding", embedding[2]}},
        scale_plot);
    fmt::print("wrote {0}/11-residual-stream.svg and {0}/11-embedding-scale.svg\n", opt.common.svg_dir);
  }
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 11: layer norm, feed-forward, residuals and the transformer encoder layer",
               "ch11_transformer_block"};
  Options opt;
  add_size_option(app, "--seq-len", opt.seq_len, "Tokens in the example sequence (L)",
                  largest_within_limits(&Options::seq_len, cost_of));
  const int max_d_model = largest_within_limits(&Options::d_model, cost_of, 2);
  add_size_option(app, "--d-model", opt.d_model, "Width of each token (E)", 2, max_d_model,
                  "at least 2: layer norm of one number is always 0, its own mean");
  add_size_option(app, "--heads", opt.heads, "Attention heads (must divide d_model)", max_d_model);
  add_size_option(app, "--d-ff", opt.d_ff, "Hidden width of the feed-forward network (F)",
                  largest_within_limits(&Options::d_ff, cost_of));
  add_size_option(app, "--depth", opt.depth, "Layers in the post-norm vs pre-norm experiment",
                  largest_within_limits(&Options::depth, cost_of));
  app.add_flag("--norm-first", opt.norm_first, "Pre-norm (PyTorch's norm_first=True) instead of post-norm");
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

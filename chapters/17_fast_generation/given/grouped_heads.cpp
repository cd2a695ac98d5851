// Chapter 17 — given code (declared in chapters/17_fast_generation/given.hpp): TinyGPTs with grouped K/V
// heads (grouping, expanding, folding gradients, training) and the full recomputation with a band mask.
#include "17_fast_generation/given.hpp"
#include "linalg.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace course {

namespace {

// copies d_k rows (and bias entries) of head `from` starting at row `from_base` of (w, b) to head `to`
// starting at row `to_base` of (out_w, out_b); add = true adds them instead
void copy_head(const Matrix& w, const Vector& b, std::size_t from_row, Matrix& out_w, Vector& out_b,
               std::size_t to_row, std::size_t d_k, bool add) {
  for (std::size_t r = 0; r < d_k; ++r) {
    for (std::size_t c = 0; c < w.shape(1); ++c)
      out_w(to_row + r, c) = (add ? out_w(to_row + r, c) : 0.0) + w(from_row + r, c);
    out_b(to_row + r) = (add ? out_b(to_row + r) : 0.0) + b(from_row + r);
  }
}

// in_proj rows for G K/V heads: W_q, then K heads and V heads built by `head(kind, g, out_w, out_b, row)`
template <class MakeHead>
void rebuild_in_proj(MultiHeadWeights& a, std::size_t E, std::size_t G, std::size_t d_k, MakeHead head) {
  Matrix w = xt::zeros<double>({E + 2 * G * d_k, a.in_proj_weight.shape(1)});
  Vector b = xt::zeros<double>({E + 2 * G * d_k});
  xt::view(w, xt::range(0, E), xt::all()) = xt::view(a.in_proj_weight, xt::range(0, E), xt::all());
  xt::view(b, xt::range(0, E)) = xt::view(a.in_proj_bias, xt::range(0, E));
  for (std::size_t g = 0; g < G; ++g) {
    head(0, g, w, b, E + g * d_k);        // K head g
    head(1, g, w, b, E + (G + g) * d_k);  // V head g
  }
  a.in_proj_weight = std::move(w);
  a.in_proj_bias = std::move(b);
}

// A model with H heads (3E rows of in_proj) made into one with G K/V heads: K/V head g is the sum of
// the first n heads of its group, g·(H/G) ... g·(H/G) + n − 1 (n = 1: that head alone; n = H/G: the
// whole group, as a tied weight's gradient). Everything else is copied.
TinyGpt sum_kv_heads(const TinyGpt& model, std::size_t G, std::size_t n) {
  const std::size_t E = model.config.d_model, H = model.config.n_heads, d_k = E / H, group = H / G;
  TinyGpt out = model;
  for (EncoderLayerWeights& block : out.blocks) {
    const Matrix w = block.self_attn.in_proj_weight;
    const Vector b = block.self_attn.in_proj_bias;
    rebuild_in_proj(block.self_attn, E, G, d_k,
                    [&](int kind, std::size_t g, Matrix& out_w, Vector& out_b, std::size_t row) {
                      for (std::size_t r = 0; r < n; ++r)
                        copy_head(w, b, (kind == 0 ? E : 2 * E) + (g * group + r) * d_k, out_w, out_b, row,
                                  d_k, true);
                    });
  }
  return out;
}
}  // namespace

// rows = E + 2 G d_k
std::size_t n_kv_heads_of(const TinyGpt& model) {
  const TinyGptConfig& c = model.config;
  const std::size_t E = c.d_model, H = c.n_heads;
  if (model.blocks.empty() || H == 0 || E % H != 0)
    throw std::invalid_argument("n_kv_heads_of: the model has no blocks or H does not divide E");
  const std::size_t d_k = E / H, rows = model.blocks[0].self_attn.in_proj_weight.shape(0);
  const std::size_t G = rows > E && (rows - E) % (2 * d_k) == 0 ? (rows - E) / (2 * d_k) : 0;
  if (G == 0 || H % G != 0) {
    throw std::invalid_argument(fmt::format(
        "n_kv_heads_of: in_proj_weight has {} rows, not E + 2·G·d_k = {} + 2·G·{} for a G dividing H = {}",
        rows, E, d_k, H));
  }
  for (std::size_t l = 0; l < model.blocks.size(); ++l) {
    const MultiHeadWeights& a = model.blocks[l].self_attn;
    if (a.in_proj_weight.shape(0) != rows || a.in_proj_weight.shape(1) != E ||
        a.in_proj_bias.size() != rows) {
      throw std::invalid_argument(
          fmt::format("n_kv_heads_of: block {}'s in_proj is {} but block 0's has {} rows of {}", l,
                      shape_of(a.in_proj_weight), rows, E));
    }
  }
  return G;
}

// K/V head g keeps head g·(H/G) of the multi-head model, the first of its group
TinyGpt group_kv_heads(const TinyGpt& model, std::size_t G) {
  const std::size_t H = model.config.n_heads;
  if (n_kv_heads_of(model) != H) throw std::invalid_argument("group_kv_heads: the model is already grouped");
  if (G == 0 || H % G != 0)
    throw std::invalid_argument(fmt::format("group_kv_heads: G = {} does not divide H = {}", G, H));
  if (G == H) return model;
  return sum_kv_heads(model, G, 1);
}

TinyGpt random_grouped_gpt(Rng& rng, const TinyGptConfig& config, std::size_t G) {
  return group_kv_heads(random_tiny_gpt(rng, config), G);
}

// query head h meets a copy of K/V head h / (H/G)
TinyGpt expand_kv_heads(const TinyGpt& model) {
  const std::size_t E = model.config.d_model, H = model.config.n_heads, G = n_kv_heads_of(model);
  if (G == H) return model;
  const std::size_t d_k = E / H, group = H / G;
  TinyGpt out = model;
  for (EncoderLayerWeights& block : out.blocks) {
    const MultiHeadWeights grouped = block.self_attn;
    Matrix w = xt::zeros<double>({3 * E, E});
    Vector b = xt::zeros<double>({3 * E});
    xt::view(w, xt::range(0, E), xt::all()) = xt::view(grouped.in_proj_weight, xt::range(0, E), xt::all());
    xt::view(b, xt::range(0, E)) = xt::view(grouped.in_proj_bias, xt::range(0, E));
    for (std::size_t h = 0; h < H; ++h) {
      const std::size_t g = h / group;
      copy_head(grouped.in_proj_weight, grouped.in_proj_bias, E + g * d_k, w, b, E + h * d_k, d_k, false);
      copy_head(grouped.in_proj_weight, grouped.in_proj_bias, E + (G + g) * d_k, w, b, 2 * E + h * d_k, d_k,
                false);
    }
    block.self_attn.in_proj_weight = std::move(w);
    block.self_attn.in_proj_bias = std::move(b);
  }
  return out;
}

// K/V head g's gradient: the sum over the H/G heads it was copied to
TinyGpt fold_kv_gradients(const TinyGpt& grads, std::size_t H, std::size_t G) {
  const std::size_t E = grads.config.d_model;
  if (G == 0 || H == 0 || H % G != 0 || E % H != 0 || H != grads.config.n_heads)
    throw std::invalid_argument(fmt::format("fold_kv_gradients: G = {} does not divide H = {}", G, H));
  if (G == H) return grads;
  for (const EncoderLayerWeights& block : grads.blocks)
    if (block.self_attn.in_proj_weight.shape(0) != 3 * E)
      throw std::invalid_argument("fold_kv_gradients: the gradients are not (3E, E)");
  return sum_kv_heads(grads, G, H / G);
}

TinyGptLossAndGradients grouped_loss_and_gradients(const TinyGpt& model, const std::vector<std::size_t>& ids,
                                                   const std::vector<std::size_t>& targets, std::size_t T) {
  const std::size_t G = n_kv_heads_of(model);
  TinyGptLossAndGradients r = tiny_gpt_loss_and_gradients(expand_kv_heads(model), ids, targets, T);
  r.grads = fold_kv_gradients(r.grads, model.config.n_heads, G);
  return r;
}

TextLoss grouped_mean_loss(const TinyGpt& model, const std::vector<std::size_t>& text,
                           const std::vector<Window>& windows) {
  return mean_loss(expand_kv_heads(model), text, windows);
}

// true where j > i or j <= i − W
BoolMatrix band_mask(std::size_t n, std::size_t W) {
  BoolMatrix m = xt::zeros<bool>({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) m(i, j) = j > i || (W > 0 && j + W <= i);
  return m;
}

// chapter 16's forward with a band mask, on the expanded model
Matrix recompute_logits(const TinyGpt& model, const std::vector<std::size_t>& ids, std::size_t window) {
  const TinyGpt m = expand_kv_heads(model);
  const TinyGptConfig& c = m.config;
  const std::size_t T = ids.size(), E = c.d_model;
  if (!c.positions || m.pos.shape(0) != c.n_ctx)
    throw std::invalid_argument("recompute_logits: the model needs its position table of n_ctx rows");
  if (T == 0 || T > c.n_ctx) {
    throw std::invalid_argument(
        fmt::format("recompute_logits: {} tokens do not fit the context n_ctx = {}", T, c.n_ctx));
  }
  // 1. token embedding plus position t's row
  Matrix x = Matrix::from_shape({T, E});
  for (std::size_t t = 0; t < T; ++t) {
    if (ids[t] >= c.vocab)
      throw std::invalid_argument(
          fmt::format("recompute_logits: id {} is {}, not below {}", t, ids[t], c.vocab));
    for (std::size_t j = 0; j < E; ++j) x(t, j) = m.tok(ids[t], j) + m.pos(t, j);
  }
  // 2. the blocks (chapter 14's pre-norm GELU encoder layer) with the band mask
  const BoolMatrix mask = band_mask(T, window);
  for (const EncoderLayerWeights& w : m.blocks)
    x = encoder_layer_forward(x, T, w, c.n_heads, /*norm_first=*/true, Activation::gelu, mask).output;
  // 3. the final norm and the head
  return product_nt(layer_norm(x, m.norm_weight, m.norm_bias, kLayerNormEps), m.head_weight);
}

}  // namespace course

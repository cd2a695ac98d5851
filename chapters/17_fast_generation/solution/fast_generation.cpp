// Chapter 17 — reference solutions: grouped-query attention and one decoding step with a KV cache.
#include "17_fast_generation/given.hpp"
#include "linalg.hpp"  // product_nt

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace course {

// out_i,h = Σ_j softmax_j(q_i,h · k_j,g / √d_k) v_j,g over the keys row i may see, g = h / (H/G)
Matrix grouped_query_attention(const Matrix& q, const Matrix& k, const Matrix& v, std::size_t H,
                               std::size_t G, const AttentionPositions& positions) {
  if (H == 0 || G == 0 || H % G != 0)
    throw std::invalid_argument(fmt::format("grouped_query_attention: G = {} does not divide H = {}", G, H));
  if (q.shape(1) % H != 0) {
    throw std::invalid_argument(
        fmt::format("grouped_query_attention: H = {} does not divide q's {} columns", H, q.shape(1)));
  }
  const std::size_t T = q.shape(0), S = k.shape(0), d_k = q.shape(1) / H, group = H / G;
  if (k.shape(1) != G * d_k || v.shape(1) != G * d_k || v.shape(0) != S) {
    throw std::invalid_argument(
        fmt::format("grouped_query_attention: k is {} and v is {}, not (S, G·d_k) = (S, {})", shape_of(k),
                    shape_of(v), G * d_k));
  }
  if (positions.key_positions.size() != S) {
    throw std::invalid_argument(fmt::format("grouped_query_attention: {} key positions for {} keys",
                                            positions.key_positions.size(), S));
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(d_k));
  const std::size_t W = positions.window;
  Matrix out = xt::zeros<double>({T, H * d_k});
  std::vector<double> scores(S);
  std::vector<bool> sees(S);
  for (std::size_t i = 0; i < T; ++i) {
    // 1. which keys query i (at position p) sees: s <= p, and s + W > p with a window
    const std::size_t p = positions.first_query + i;
    bool any = false;
    for (std::size_t j = 0; j < S; ++j) {
      const std::size_t s = positions.key_positions[j];
      sees[j] = s <= p && (W == 0 || s + W > p);
      any = any || sees[j];
    }
    if (!any) continue;  // no key: zeros
    for (std::size_t h = 0; h < H; ++h) {
      const std::size_t g = h / group;  // the K/V head this query head reads
      // 2. scores q · k / √d_k and their maximum
      double max = -INFINITY;
      for (std::size_t j = 0; j < S; ++j) {
        if (!sees[j]) continue;
        double dot = 0.0;
        for (std::size_t c = 0; c < d_k; ++c) dot += q(i, h * d_k + c) * k(j, g * d_k + c);
        scores[j] = dot * scale;
        max = std::max(max, scores[j]);
      }
      // 3. softmax over the keys seen
      double sum = 0.0;
      for (std::size_t j = 0; j < S; ++j) {
        if (!sees[j]) continue;
        scores[j] = std::exp(scores[j] - max);
        sum += scores[j];
      }
      // 4. the weighted sum of the values, into head h's columns
      for (std::size_t j = 0; j < S; ++j) {
        if (!sees[j]) continue;
        const double weight = scores[j] / sum;
        for (std::size_t c = 0; c < d_k; ++c) out(i, h * d_k + c) += weight * v(j, g * d_k + c);
      }
    }
  }
  return out;
}

// one token at position p = cache.length through every block, its K and V kept in the cache
Vector decode_step(const TinyGpt& model, KvCache& cache, std::size_t token) {
  const TinyGptConfig& c = model.config;
  const std::size_t p = cache.length, E = c.d_model, H = c.n_heads;
  const std::size_t G = cache.n_kv_heads, width = G * cache.d_k;
  // 1. the position must have a row in pos.weight: a full cache ends here
  if (p >= c.n_ctx) {
    throw std::out_of_range(
        fmt::format("decode_step: the cache holds {} tokens, the whole context n_ctx = {}", p, c.n_ctx));
  }
  if (token >= c.vocab)
    throw std::invalid_argument(fmt::format("decode_step: token {} is not below V = {}", token, c.vocab));
  // 2. x = tok[token] + pos[p]   (1, E)
  Matrix x = Matrix::from_shape({1, E});
  for (std::size_t j = 0; j < E; ++j) x(0, j) = model.tok(token, j) + model.pos(p, j);
  for (std::size_t l = 0; l < model.blocks.size(); ++l) {
    const EncoderLayerWeights& w = model.blocks[l];
    // 3. norm1 and the projections of this one row: q (1, E), k and v (1, G·d_k) (given code)
    const GroupedQkv qkv = grouped_qkv(x, w, width);
    // 4. append k and v, then attend over every cached position (this one included)
    cache.store(l, p, qkv.k, qkv.v);
    const Matrix a =
        grouped_query_attention(qkv.q, cache.keys(l), cache.values(l), H, G, cache.positions_for(p));
    // 5. out_proj and the residual; norm2, feed-forward (exact GELU) and the residual (given code)
    x = x + linear(a, w.self_attn.out_proj_weight, w.self_attn.out_proj_bias);
    x = feed_forward_residual(x, w);
  }
  // 6. the final norm and the head; one more token in the cache
  // (the head has no bias: product_nt of common/linalg.hpp, x headᵀ through OpenBLAS, as chapter 16's)
  const Matrix logits =
      product_nt(layer_norm(x, model.norm_weight, model.norm_bias, kLayerNormEps), model.head_weight);
  cache.length = p + 1;
  return xt::view(logits, 0, xt::all());
}

}  // namespace course

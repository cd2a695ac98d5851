// Chapter 17 — given code (declared in chapters/17_fast_generation/given.hpp): the KV cache and its ring
// buffer, prefill, the cached forward and generation, and the counts of multiply-adds per token.
#include "17_fast_generation/given.hpp"
#include "linalg.hpp"
#include "timing.hpp"  // median, seconds_since

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

namespace course {

namespace {

// the first `rows` rows of a buffer, copied
Matrix first_rows(const Matrix& buffer, std::size_t rows) {
  Matrix out = Matrix::from_shape({rows, buffer.shape(1)});
  std::copy(buffer.data(), buffer.data() + rows * buffer.shape(1), out.data());
  return out;
}
}  // namespace

// slot p mod slots; positions in order, each block on its own
void KvCache::store(std::size_t l, std::size_t p, const Matrix& k_row, const Matrix& v_row) {
  if (l >= n_layers) throw std::invalid_argument(fmt::format("KvCache::store: no block {}", l));
  if (p >= n_ctx) {
    throw std::out_of_range(
        fmt::format("KvCache::store: position {} is past the context n_ctx = {}", p, n_ctx));
  }
  if (p != stored[l]) {
    throw std::invalid_argument(
        fmt::format("KvCache::store: block {} expects position {} next, not {}", l, stored[l], p));
  }
  const std::size_t width = n_kv_heads * d_k;
  for (const Matrix* row : {&k_row, &v_row}) {
    if (row->shape(0) != 1 || row->shape(1) != width) {
      throw std::invalid_argument(fmt::format(
          "KvCache::store: a row is {} but the cache holds (1, G·d_k) = (1, {})", shape_of(*row), width));
    }
  }
  const std::size_t slot = p % slots;
  std::copy(k_row.data(), k_row.data() + width, &k[l](slot, 0));
  std::copy(v_row.data(), v_row.data() + width, &v[l](slot, 0));
  ++stored[l];
}

Matrix KvCache::keys(std::size_t l) const {
  if (l >= n_layers) throw std::invalid_argument(fmt::format("KvCache::keys: no block {}", l));
  return first_rows(k[l], std::min(stored[l], slots));
}

Matrix KvCache::values(std::size_t l) const {
  if (l >= n_layers) throw std::invalid_argument(fmt::format("KvCache::values: no block {}", l));
  return first_rows(v[l], std::min(stored[l], slots));
}

// slot s holds the latest position <= p that is s mod slots: p − ((p − s) mod slots)
AttentionPositions KvCache::positions_for(std::size_t p) const {
  AttentionPositions a;
  a.first_query = p;
  a.window = window;
  const std::size_t filled = std::min(p + 1, slots);
  for (std::size_t s = 0; s < filled; ++s) a.key_positions.push_back(p - (p - s) % slots);
  return a;
}

double KvCache::bytes() const {
  double n = 0.0;
  for (std::size_t l = 0; l < n_layers; ++l) n += static_cast<double>(k[l].size() + v[l].size());
  return 8.0 * n;
}

KvCache make_kv_cache(const TinyGpt& model, std::size_t window) {
  const TinyGptConfig& c = model.config;
  if (!c.positions || model.pos.shape(0) != c.n_ctx)
    throw std::invalid_argument("make_kv_cache: the model needs its position table of n_ctx rows");
  KvCache cache;
  cache.n_layers = model.blocks.size();
  cache.n_kv_heads = n_kv_heads_of(model);
  cache.d_k = c.d_model / c.n_heads;
  cache.n_ctx = c.n_ctx;
  cache.window = window;
  cache.slots = window == 0 ? c.n_ctx : std::min(window, c.n_ctx);
  for (std::size_t l = 0; l < cache.n_layers; ++l) {
    cache.k.push_back(xt::zeros<double>({cache.slots, cache.n_kv_heads * cache.d_k}));
    cache.v.push_back(xt::zeros<double>({cache.slots, cache.n_kv_heads * cache.d_k}));
  }
  cache.stored.assign(cache.n_layers, 0);
  return cache;
}

// h = norm1(x), qkv = h W_inᵀ + b_in, cut into Q | K | V
GroupedQkv grouped_qkv(const Matrix& x, const EncoderLayerWeights& w, std::size_t width) {
  const std::size_t E = x.shape(1);
  const Matrix h = layer_norm(x, w.norm1_weight, w.norm1_bias, kLayerNormEps);
  const Matrix qkv = linear(h, w.self_attn.in_proj_weight, w.self_attn.in_proj_bias);
  return {xt::view(qkv, xt::all(), xt::range(0, E)), xt::view(qkv, xt::all(), xt::range(E, E + width)),
          xt::view(qkv, xt::all(), xt::range(E + width, E + 2 * width))};
}

// x + FF(norm2(x)), FF = linear2(gelu(linear1(·)))
Matrix feed_forward_residual(const Matrix& x, const EncoderLayerWeights& w) {
  const Matrix h = layer_norm(x, w.norm2_weight, w.norm2_bias, kLayerNormEps);
  return x + linear(activate(linear(h, w.linear1_weight, w.linear1_bias), Activation::gelu), w.linear2_weight,
                    w.linear2_bias);
}

// x = tok[ids] + pos[t]; per block: norm1, [q | k | v], store k and v, attention, out_proj, residual,
// norm2, feed-forward, residual; final norm and head: all P positions at once
Matrix prefill(const TinyGpt& model, KvCache& cache, const std::vector<std::size_t>& ids) {
  const TinyGptConfig& c = model.config;
  const std::size_t P = ids.size(), E = c.d_model, H = c.n_heads;
  const std::size_t G = cache.n_kv_heads, width = G * cache.d_k;
  if (cache.length != 0 ||
      std::any_of(cache.stored.begin(), cache.stored.end(), [](std::size_t s) { return s > 0; }))
    throw std::invalid_argument("prefill: the cache is not empty");
  if (P > c.n_ctx)
    throw std::out_of_range(fmt::format("prefill: {} tokens do not fit the context n_ctx = {}", P, c.n_ctx));
  if (P == 0) return Matrix::from_shape({0, c.vocab});
  // 1. token embedding plus position t's row of the table
  Matrix x = Matrix::from_shape({P, E});
  for (std::size_t t = 0; t < P; ++t) {
    if (ids[t] >= c.vocab)
      throw std::invalid_argument(fmt::format("prefill: id {} is {}, not below {}", t, ids[t], c.vocab));
    for (std::size_t j = 0; j < E; ++j) x(t, j) = model.tok(ids[t], j) + model.pos(t, j);
  }
  // the P queries at positions 0..P−1 over the P keys computed here (the ring may keep fewer)
  AttentionPositions positions;
  positions.window = cache.window;
  for (std::size_t t = 0; t < P; ++t) positions.key_positions.push_back(t);
  for (std::size_t l = 0; l < model.blocks.size(); ++l) {
    const EncoderLayerWeights& w = model.blocks[l];
    // 2. norm1 and the projections: Q (P, E), K and V (P, G·d_k)
    const GroupedQkv qkv = grouped_qkv(x, w, width);
    // 3. every position's K and V into the cache, in order
    for (std::size_t t = 0; t < P; ++t) {
      cache.store(l, t, xt::view(qkv.k, xt::range(t, t + 1), xt::all()),
                  xt::view(qkv.v, xt::range(t, t + 1), xt::all()));
    }
    // 4. attention (causal, with the cache's window), out_proj, residual
    const Matrix a = grouped_query_attention(qkv.q, qkv.k, qkv.v, H, G, positions);
    x = x + linear(a, w.self_attn.out_proj_weight, w.self_attn.out_proj_bias);
    // 5. norm2, feed-forward with exact GELU, residual
    x = feed_forward_residual(x, w);
  }
  cache.length = P;
  // 6. the final norm and the head
  return product_nt(layer_norm(x, model.norm_weight, model.norm_bias, kLayerNormEps), model.head_weight);
}

Matrix cached_logits(const TinyGpt& model, const std::vector<std::size_t>& ids, std::size_t P,
                     std::size_t window) {
  const std::size_t T = ids.size(), V = model.config.vocab;
  if (P > T) throw std::invalid_argument(fmt::format("cached_logits: a prefill of {} from {} tokens", P, T));
  if (T > model.config.n_ctx) {
    throw std::out_of_range(
        fmt::format("cached_logits: {} tokens do not fit the context n_ctx = {}", T, model.config.n_ctx));
  }
  KvCache cache = make_kv_cache(model, window);
  Matrix logits = Matrix::from_shape({T, V});
  const std::vector<std::size_t> prompt(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(P));
  const Matrix first = prefill(model, cache, prompt);
  xt::view(logits, xt::range(0, P), xt::all()) = first;
  for (std::size_t t = P; t < T; ++t) xt::view(logits, t, xt::all()) = decode_step(model, cache, ids[t]);
  return logits;
}

// prefill the prompt; then sample, feed the sample, sample again
std::vector<std::size_t> generate_cached(const TinyGpt& model, const std::vector<std::size_t>& prompt,
                                         std::size_t n_new, const SamplingOptions& options, Rng& rng) {
  const std::size_t n_ctx = model.config.n_ctx;
  if (prompt.empty()) throw std::invalid_argument("generate_cached: the prompt is empty");
  if (prompt.size() > n_ctx || prompt.size() + n_new > n_ctx + 1) {
    throw std::invalid_argument(
        fmt::format("generate_cached: a prompt of {} and {} new tokens do not fit the context n_ctx = {}",
                    prompt.size(), n_new, n_ctx));
  }
  KvCache cache = make_kv_cache(model);
  const Matrix first = prefill(model, cache, prompt);
  Vector last = xt::view(first, prompt.size() - 1, xt::all());
  std::vector<std::size_t> out = prompt;
  for (std::size_t k = 0; k < n_new; ++k) {
    out.push_back(sample_next(last, options, rng));
    if (k + 1 < n_new) last = decode_step(model, cache, out.back());
  }
  return out;
}

double cached_token_multiply_adds(const TinyGptConfig& c, std::size_t G, std::size_t n, std::size_t window) {
  const double E = c.d_model, F = c.d_ff, V = c.vocab, dk = E / c.n_heads;
  const double keys = static_cast<double>(window == 0 ? n : std::min(n, window));
  const double block = 2.0 * E * E + 2.0 * E * G * dk + 2.0 * E * F + 2.0 * c.n_heads * dk * keys;
  return c.n_layers * block + V * E;
}

double recomputed_token_multiply_adds(const TinyGptConfig& c, std::size_t n) {
  const double E = c.d_model, F = c.d_ff, V = c.vocab, N = static_cast<double>(n);
  const double block = N * (4.0 * E * E + 2.0 * E * F) + 2.0 * E * N * N;  // every (i, j) pair scored
  return c.n_layers * block + V * E;
}

// per round, per length: a decode step from a copied cache, then a recomputation
TokenTimes time_per_token(const TinyGpt& model, const std::vector<std::size_t>& ids,
                          const std::vector<std::size_t>& lengths, std::size_t rounds) {
  TokenTimes t;
  t.lengths = lengths;
  t.rounds = rounds;
  std::vector<KvCache> caches;  // the first n − 1 ids of every length, prefilled once
  for (std::size_t n : lengths) {
    if (n == 0 || n > ids.size() || n > model.config.n_ctx)
      throw std::invalid_argument(fmt::format("time_per_token: no context of {} tokens here", n));
    caches.push_back(make_kv_cache(model));
    prefill(model, caches.back(), std::vector<std::size_t>(ids.begin(), ids.begin() + (n - 1)));
  }
  SamplingOptions greedy;
  greedy.greedy = true;
  Rng unused(0);                                    // greedy draws nothing
  const TinyGpt expanded = expand_kv_heads(model);  // chapter 16's generate needs G = H
  std::vector<std::vector<double>> cached(lengths.size()), recomputed(lengths.size());
  for (std::size_t round = 0; round <= rounds; ++round) {  // round 0 warms up, uncounted
    for (std::size_t k = 0; k < lengths.size(); ++k) {
      const std::size_t n = lengths[k];
      KvCache cache = caches[k];
      auto start = std::chrono::steady_clock::now();
      decode_step(model, cache, ids[n - 1]);
      if (round > 0) cached[k].push_back(seconds_since(start));
      const std::vector<std::size_t> context(ids.begin(), ids.begin() + n);
      start = std::chrono::steady_clock::now();
      generate(expanded, context, 1, greedy, unused);
      if (round > 0) recomputed[k].push_back(seconds_since(start));
    }
  }
  for (std::size_t k = 0; k < lengths.size(); ++k) {
    t.cached_seconds.push_back(median(cached[k]));
    t.recomputed_seconds.push_back(median(recomputed[k]));
  }
  return t;
}

// slope = Σ (u − ū)(w − w̄) / Σ (u − ū)², u = log x, w = log y
double fitted_exponent(const std::vector<std::size_t>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2)
    throw std::invalid_argument("fitted_exponent: needs two or more (x, y) pairs");
  double mu = 0.0, mw = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i] == 0 || !(y[i] > 0.0)) throw std::invalid_argument("fitted_exponent: x and y must be above 0");
    mu += std::log(static_cast<double>(x[i])) / static_cast<double>(x.size());
    mw += std::log(y[i]) / static_cast<double>(y.size());
  }
  double suw = 0.0, suu = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double du = std::log(static_cast<double>(x[i])) - mu;
    suw += du * (std::log(y[i]) - mw);
    suu += du * du;
  }
  if (suu == 0.0) throw std::invalid_argument("fitted_exponent: every x is the same");
  return suw / suu;
}

}  // namespace course

// Exercise 17 — fast generation: grouped-query attention and one decoding step with a KV cache.
//
// Fill in the two functions below, then run   ./course check 17
// The contract is in common/contracts/17_fast_generation.hpp (the KvCache is in
// common/given/17_fast_generation.hpp); stuck? ./course hint 17
#include "given/17_fast_generation.hpp"

namespace course {

// out (T, H·d_k): query head h attends over the keys its row may see, with K/V head h / (H/G)
Matrix grouped_query_attention(const Matrix& q, const Matrix& k, const Matrix& v, std::size_t n_heads,
                               std::size_t n_kv_heads, const AttentionPositions& positions) {
  // TODO: 1. check the sizes: G divides H, H divides q's columns (d_k = columns / H), k and v are
  //          (S, G·d_k), one key position per key row; throw std::invalid_argument otherwise
  // TODO: 2. out = zeros (T, H·d_k); query row i sits at position p = positions.first_query + i
  // TODO: 3. key j is seen when key_positions[j] <= p (and > p − window if window > 0); no key: zeros
  // TODO: 4. for each head h, g = h / (H/G): scores q_i,h · k_j,g / √d_k over the keys seen, a stable
  //          softmax (subtract the maximum), and out_i,h = Σ_j weight_j v_j,g
  throw not_implemented("exercise 17: grouped_query_attention");
}

// logits (V) of the token after `token`, which sits at position cache.length
Vector decode_step(const TinyGpt& model, KvCache& cache, std::size_t token) {
  // TODO: 1. p = cache.length; if p >= n_ctx throw std::out_of_range (name n_ctx) BEFORE reading pos;
  //          a token not below V: std::invalid_argument
  // TODO: 2. x (1, E) = tok[token] + pos[p]
  // TODO: 3. per block: h = layer_norm(x, norm1), qkv = linear(h, in_proj), cut into q | k | v
  //          (E | G·d_k | G·d_k columns, G = cache.n_kv_heads); cache.store(l, p, k, v);
  //          a = grouped_query_attention(q, cache.keys(l), cache.values(l), H, G, cache.positions_for(p));
  //          x += linear(a, out_proj); x += linear2(gelu(linear1(layer_norm(x, norm2))))
  //          (activate(·, Activation::gelu) is chapter 14's exact GELU)
  // TODO: 4. logits = layer_norm(x, norm) head.weightᵀ; cache.length = p + 1; return row 0
  throw not_implemented("exercise 17: decode_step");
}

}  // namespace course

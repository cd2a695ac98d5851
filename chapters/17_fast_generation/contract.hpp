// Chapter 17 — fast generation: the functions you write in exercises/17_fast_generation/fast_generation.cpp.
// The reference is chapters/17_fast_generation/solution/fast_generation.cpp; chapters/17_fast_generation/test.cpp
// checks both (./course check 17). Code the course gives for this chapter (not an exercise) is in
// chapters/17_fast_generation/given.hpp: the KV cache (KvCache, its ring buffer for a sliding window),
// prefill, cached generation, TinyGPTs with grouped K/V heads, and their training.
#pragma once
#include "16_tiny_gpt/given.hpp"  // TinyGpt
#include "tensor.hpp"

#include <cstddef>
#include <vector>

namespace course {

// Where the queries and keys of one attention call sit in the sequence, and what each query may see.
// Query row i sits at position first_query + i; key row j at key_positions[j]. A query at position p
// sees the key at position s when
//   s <= p                 (causal: the past and itself)
//   and s + W > p           (with a window W > 0: only the last W positions, itself included;
//                            written so, not as s > p − W, which wraps around on size_t when p < W)
// window = 0 means no window. A full forward over T tokens has first_query = 0 and key_positions
// 0, 1, ..., T − 1; one decoding step at position p has one query (first_query = p) over the cached
// keys' positions, which a ring buffer keeps out of order.
struct AttentionPositions {
  std::size_t first_query = 0;
  std::vector<std::size_t> key_positions;  // (S)
  std::size_t window = 0;                  // W; 0: no window
};

// grouped_query_attention — causal attention with n_heads query heads sharing n_kv_heads K/V heads:
//   q (T, H·d_k), k (S, G·d_k), v (S, G·d_k), H = n_heads, G = n_kv_heads dividing H
//     ->  output (T, H·d_k): head h's output in columns [h·d_k, (h+1)·d_k)
//   query head h reads K/V head g = h / (H/G): consecutive query heads share one K/V head, as
//   torch.repeat_interleave(k_heads, H/G) would repeat it (G = H: multi-head attention; G = 1:
//   multi-query attention, one K/V head for all)
//   for each query row i and head h, over the keys j that row i may see (AttentionPositions):
//     s_j = q_i,h · k_j,g / √d_k;   p_j = exp(s_j − max s) / Σ exp(s − max s);   out_i,h = Σ_j p_j v_j,g
//   a row that sees no key gets zeros (as chapter 04's masked_attention)
// The d_k columns of one head are consecutive, as chapter 05's split_heads cuts them.
// Sources: Shazeer 2019, "Fast Transformer Decoding: One Write-Head is All You Need" (multi-query);
// Ainslie et al. 2023, "GQA: Training Generalized Multi-Query Transformer Models from Multi-Head
// Checkpoints" (grouped-query).
// Throws std::invalid_argument when n_heads or n_kv_heads is 0, G does not divide H, H does not
// divide q's columns, k's or v's columns are not G·d_k, k and v differ in rows, or key_positions does
// not have one entry per key row.
Matrix grouped_query_attention(const Matrix& q, const Matrix& k, const Matrix& v, std::size_t n_heads,
                               std::size_t n_kv_heads, const AttentionPositions& positions);

struct KvCache;  // chapters/17_fast_generation/given.hpp

// decode_step — one token through the model, reading and extending the KV cache:
//   model: a TinyGPT whose blocks' in_proj_weight has E + 2·G·d_k rows (W_q, then G K heads, then G
//   V heads; G = H is chapter 16's (3E, E)); cache: made for it (make_kv_cache), holding the
//   cache.length tokens before this one; token in [0, V)  ->  logits (V) of the next token
//   p = cache.length  (the token's position; p < n_ctx = model.config.n_ctx, else throws: there is no
//                      row p of pos.weight)
//   x = tok[token] + pos[p]                                            (1, E)
//   every layer_norm(x, norm) below is layer_norm(x, norm.weight, norm.bias, kLayerNormEps), chapter
//   11's with PyTorch's default eps = 1e-5 (another eps gives logits off by about 1e-6, and no other clue)
//   for each block l:
//     h = layer_norm(x, norm1);  [q | k | v] = h in_proj_weightᵀ + in_proj_bias   (1, E | G·d_k | G·d_k)
//     cache.store(l, p, k, v)                          (the block's cache now holds positions ≤ p)
//     a = grouped_query_attention(q, cache.keys(l), cache.values(l), H, G, cache.positions_for(p))
//     x = x + a out_proj.weightᵀ + out_proj.bias
//     x = x + gelu(layer_norm(x, norm2) linear1ᵀ + b1) linear2ᵀ + b2      (exact GELU)
//   logits = layer_norm(x, norm) head.weightᵀ;   cache.length = p + 1
// The logits equal row p of chapter 16's tiny_gpt_forward over the same p + 1 tokens (to rounding),
// at a cost per token that grows with p only through attention's p + 1 keys.
// Source: the KV cache of autoregressive decoding (Pope et al. 2022, "Efficiently Scaling Transformer
// Inference", section 2); karpathy/llama2.c run.c's forward(), one position at a time.
// Throws std::out_of_range when the cache is full (cache.length == n_ctx; the message names n_ctx),
// before reading any row of pos.weight; std::invalid_argument when the token is not below V (and
// cache.store throws it when the cache was made for other sizes).
Vector decode_step(const TinyGpt& model, KvCache& cache, std::size_t token);

}  // namespace course

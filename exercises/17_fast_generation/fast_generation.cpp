// Exercise 17 — fast generation: grouped-query attention and one decoding step with a KV cache.
//
// Fill in the two functions below, then run   ./course check 17
// The contract is in chapters/17_fast_generation/contract.hpp (the KvCache is in
// chapters/17_fast_generation/given.hpp); stuck? ./course hint 17
#include "17_fast_generation/given.hpp"

namespace course {

// out (T, H·d_k): query head h attends over the keys its row may see, with the K/V head of its group
Matrix grouped_query_attention(const Matrix& q, const Matrix& k, const Matrix& v, std::size_t n_heads,
                               std::size_t n_kv_heads, const AttentionPositions& positions) {
  // TODO: refuse sizes that do not fit (std::invalid_argument; the contract lists them)
  // TODO: per query row: which keys its position may see; per query head: which K/V head it shares,
  //       then chapter 04's attention over the keys seen
  throw not_implemented("exercise 17: grouped_query_attention");
}

// logits (V) of the token after `token`, which sits at position cache.length
Vector decode_step(const TinyGpt& model, KvCache& cache, std::size_t token) {
  // TODO: refuse a full cache (std::out_of_range, before anything reads pos) and a token not below V
  // TODO: chapter 16's forward for one (1, E) row, each block reading and extending the cache
  throw not_implemented("exercise 17: decode_step");
}

}  // namespace course

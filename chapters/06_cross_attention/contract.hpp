// Chapter 06 — cross-attention: the function you write in exercises/06_cross_attention/cross_attention.cpp.
// The reference is chapters/06_cross_attention/solution/cross_attention.cpp; chapters/06_cross_attention/test.cpp checks
// both (./course check 06).
#pragma once
#include "02_dot_product_attention/contract.hpp"

namespace course {

// cross_attention — queries from one sequence, keys and values from another.
//   x_q (L, d_q)   the sequence that asks (e.g. the target a decoder is writing)
//   x_kv (S, d_kv) the sequence that is read (e.g. the source an encoder has read); S may differ from L
//   w_q (d_q, d_k), w_k (d_kv, d_k), w_v (d_kv, d_v)
//   Q = x_q W_q (L, d_k),  K = x_kv W_k (S, d_k),  V = x_kv W_v (S, d_v)
//     ->  output (L, d_v): one row per query;  weights (L, S): query i over the S source tokens
// Self-attention (chapter 03) is the special case x_q = x_kv. Same convention as chapter 03: x W,
// with W of shape (in, out). Throws std::invalid_argument when a shape does not fit.
AttentionResult cross_attention(const Matrix& x_q, const Matrix& x_kv, const Matrix& w_q, const Matrix& w_k,
                                const Matrix& w_v);

}  // namespace course

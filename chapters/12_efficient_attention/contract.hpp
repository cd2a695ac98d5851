// Chapter 12 — efficient attention: the functions you write in
// exercises/12_efficient_attention/efficient_attention.cpp. The reference is
// chapters/12_efficient_attention/solution/efficient_attention.cpp; chapters/12_efficient_attention/test.cpp checks both
// (./course check 12).
#pragma once
#include "tensor.hpp"

namespace course {

// online_softmax — the softmax of one row in a single pass over it (Milakov & Gimelshein 2018):
//   keep a running maximum m and a running sum l of exp(x - m); when a new maximum arrives, rescale:
//     m' = max(m, x_j),   l' = l * exp(m - m') + exp(x_j - m'),   starting from m = -inf, l = 0
//   then p_j = exp(x_j - m) / l.
//   scores (n)  ->  p (n), the same numbers as softmax_rows
// A score of -inf (a masked key) gets weight exactly 0 wherever it stands, first included (there
// m_new is still -inf and exp(-inf - -inf) would be NaN: skip it). A row of only -inf, where
// softmax_rows is undefined, gives all zeros, as chapter 04's fully masked row.
Vector online_softmax(const Vector& scores);

// tiled_attention — exact scaled dot-product attention that never holds the (L, S) score matrix
// (FlashAttention, Dao et al. 2022, in the spirit of its algorithm 1, on a CPU):
//   q (L, d), k (S, d), v (S, d_v), block_size B >= 1, causal  ->  output (L, d_v)
//   For each block of up to B queries, sweep the keys in blocks of up to B. For every query row
//   keep a running maximum m, a running sum l and an unnormalised output acc (d_v): for a block of
//   scores s = q_i k_j^T / sqrt(d), m' = max(m, max s), acc = acc * exp(m - m') + sum exp(s - m') v_j,
//   l = l * exp(m - m') + sum exp(s - m');  at the end output_i = acc / l.
//   Extra memory: O(B * B + B * d_v), whatever L and S are.
//   causal: query i may attend to keys 0..i only (needs L == S); key blocks after the query block
//   are skipped entirely.
// Throws std::invalid_argument when shapes do not fit, B is 0, or causal with L != S.
Matrix tiled_attention(const Matrix& q, const Matrix& k, const Matrix& v, std::size_t block_size,
                       bool causal);

}  // namespace course

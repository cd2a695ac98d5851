// Chapter 04 — masking: the functions you write in exercises/04_masking/masking.cpp. The reference is
// chapters/04_masking/solution/masking.cpp; chapters/04_masking/test.cpp checks both (./course check 04). Code the
// course gives for this chapter (not an exercise) is in chapters/04_masking/given.hpp.
#pragma once
#include "02_dot_product_attention/contract.hpp"

namespace course {

// causal_mask — what a decoder must not see: the future.
//   n  ->  mask (n, n) bool,   mask[i][j] = (j > i)
// true means "may not attend", as in torch.nn.MultiheadAttention's bool attn_mask and key_padding_mask
// (torch.nn.functional.scaled_dot_product_attention's bool mask means the opposite): query i may look
// at keys 0..i only. Every mask in the course follows this convention.
BoolMatrix causal_mask(std::size_t n);

// masked_attention — scaled dot-product attention in which masked pairs get no weight.
//   q (L, d_k), k (S, d_k), v (S, d_v), mask (L, S) bool (true = may not attend)
//     ->  output (L, d_v), weights (L, S)
//   scores = q k^T / sqrt(d_k);  scores[i][j] = -inf where mask[i][j];  weights = softmax of each row
// A fully masked row (query i may attend to nothing) gets all-zero weights and a zero output row.
// (PyTorch's softmax gives NaN there: exp(-inf) / sum of exp(-inf) = 0 / 0.)
// Throws std::invalid_argument when the shapes do not fit (q/k widths, k/v lengths, mask not (L, S)).
AttentionResult masked_attention(const Matrix& q, const Matrix& k, const Matrix& v, const BoolMatrix& mask);

}  // namespace course

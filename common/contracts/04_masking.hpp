// Chapter 04 — masking: the functions you write in exercises/04_masking/masking.cpp.
#pragma once
#include "contracts/02_dot_product_attention.hpp"

namespace course {

// causal_mask — what a decoder must not see: the future.
//   n  ->  mask (n, n) bool,   mask[i][j] = (j > i)
// true means "may not attend", as in PyTorch's attn_mask: query i may look at keys 0..i only.
BoolMatrix causal_mask(std::size_t n);

// masked_attention — scaled dot-product attention in which masked pairs get no weight.
//   q (L, d_k), k (S, d_k), v (S, d_v), mask (L, S) bool (true = may not attend)
//     ->  output (L, d_v), weights (L, S)
//   scores = q k^T / sqrt(d_k);  scores[i][j] = -inf where mask[i][j];  weights = softmax of each row
// A fully masked row (query i may attend to nothing) gets all-zero weights and a zero output row.
// (PyTorch's softmax gives NaN there: exp(-inf) / sum of exp(-inf) = 0 / 0.)
// Throws std::invalid_argument when the shapes do not fit (q/k widths, k/v lengths, mask not (L, S)).
AttentionResult masked_attention(const Matrix& q, const Matrix& k, const Matrix& v, const BoolMatrix& mask);

// --- helpers (given, not exercises) ---------------------------------------------------------------

// No mask at all: (L, S) of false.
inline BoolMatrix no_mask(std::size_t L, std::size_t S) {
  return xt::zeros<bool>({L, S});
}

// padding_mask — keys that are padding may not be attended by any query.
//   key_padding (S) bool (true = padding, PyTorch's key_padding_mask), L  ->  mask (L, S)
inline BoolMatrix padding_mask(const BoolVector& key_padding, std::size_t L) {
  BoolMatrix mask = xt::zeros<bool>({L, key_padding.size()});
  for (std::size_t i = 0; i < L; ++i)
    for (std::size_t j = 0; j < key_padding.size(); ++j) mask(i, j) = key_padding(j);
  return mask;
}

// Either mask forbids: a | b, elementwise, both (L, S).
inline BoolMatrix combine_masks(const BoolMatrix& a, const BoolMatrix& b) {
  BoolMatrix mask = a;
  for (std::size_t i = 0; i < mask.shape(0); ++i)
    for (std::size_t j = 0; j < mask.shape(1); ++j) mask(i, j) = a(i, j) || b(i, j);
  return mask;
}

// linear — torch.nn.Linear's forward: y = x W^T + b.   x (n, in), w (out, in), b (out) -> y (n, out)
inline Matrix linear(const Matrix& x, const Matrix& w, const Vector& b) {
  const Matrix w_t = xt::transpose(w);
  Matrix y = matmul(x, w_t);
  for (std::size_t i = 0; i < y.shape(0); ++i)
    for (std::size_t j = 0; j < y.shape(1); ++j) y(i, j) += b(j);
  return y;
}

}  // namespace course

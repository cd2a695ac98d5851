// Chapter 02 — scaled dot-product attention: the function you write in
// exercises/02_dot_product_attention/dot_product_attention.cpp. The reference is
// chapters/02_dot_product_attention/solution/dot_product_attention.cpp; chapters/02_dot_product_attention/test.cpp
// checks both (./course check 02).
#pragma once
#include "01_tensors/contract.hpp"

namespace course {

// What an attention layer returns: the mixed values and the weights that mixed them.
struct AttentionResult {
  Matrix output;   // (L, d_v): row i is a weighted average of the rows of v
  Matrix weights;  // (L, S):   row i says how much query i takes from each key; rows sum to 1
};

// scaled_dot_product_attention — Vaswani et al. (2017), equation (1):
//   Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V
//   q (L, d_k), k (S, d_k), v (S, d_v)  ->  output (L, d_v), weights (L, S)
// Each query (a row of q) is compared with every key (a row of k) by a dot product; dividing by
// sqrt(d_k) keeps the scores' variance near 1 whatever d_k is, so the softmax does not saturate.
// Throws std::invalid_argument when q and k differ in width or k and v differ in length.
// Same as torch.softmax(q @ k.T / math.sqrt(q.shape[-1]), dim=-1) @ v in PyTorch.
AttentionResult scaled_dot_product_attention(const Matrix& q, const Matrix& k, const Matrix& v);

}  // namespace course

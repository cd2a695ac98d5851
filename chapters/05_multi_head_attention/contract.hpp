// Chapter 05 — multi-head attention: the functions you write in
// exercises/05_multi_head_attention/multi_head_attention.cpp. The reference is
// chapters/05_multi_head_attention/solution/multi_head_attention.cpp; chapters/05_multi_head_attention/test.cpp checks
// both (./course check 05). Code the course gives for this chapter (not an exercise) is in
// chapters/05_multi_head_attention/given.hpp.
#pragma once
#include "04_masking/contract.hpp"

namespace course {

// split_heads — cut the feature axis into n_heads heads of width d_head = d_model / n_heads.
//   x (n, d_model)  ->  heads (n_heads, n, d_head),   heads[h][i][c] = x[i][h * d_head + c]
// Head h gets the d_head consecutive columns starting at h * d_head: n_heads chunks of size d_head
// (not chunks of size n_heads!). Throws std::invalid_argument if n_heads is 0 or does not divide d_model.
Tensor3 split_heads(const Matrix& x, std::size_t n_heads);

// merge_heads — the inverse of split_heads: put the heads side by side again ("concatenate").
//   heads (n_heads, n, d_head)  ->  x (n, n_heads * d_head),   x[i][h * d_head + c] = heads[h][i][c]
Matrix merge_heads(const Tensor3& heads);

// The parameters of torch.nn.MultiheadAttention(E, H) (bias=True), named after its state_dict.
// PyTorch's Linear computes y = x W^T + b, so W_q is a (E, E) block that multiplies from the right
// transposed: Q = query W_q^T + b_q.
struct MultiHeadWeights {
  Matrix in_proj_weight;   // (3E, E): rows [0, E) are W_q, rows [E, 2E) W_k, rows [2E, 3E) W_v
  Vector in_proj_bias;     // (3E):    b_q, b_k, b_v one after the other
  Matrix out_proj_weight;  // (E, E):  W_o
  Vector out_proj_bias;    // (E):     b_o
};

struct MultiHeadResult {
  Matrix output;    // (L, E)
  Tensor3 weights;  // (H, L, S): head h's attention weights (PyTorch: average_attn_weights=False)
};

// multi_head_attention — the forward pass of torch.nn.MultiheadAttention (unbatched, no dropout):
//   query (L, E), key (S, E), value (S, E), mask (L, S) bool (true = may not attend; no_mask(L, S)
//   of chapters/04_masking/given.hpp for none)
//   1. Q = query W_q^T + b_q (L, E),  K = key W_k^T + b_k (S, E),  V = value W_v^T + b_v (S, E)
//   2. split Q, K, V into n_heads heads of width d_head = E / n_heads
//   3. head h = masked_attention(Q_h, K_h, V_h, mask)                         (L, d_head) each
//   4. output = merge_heads(heads) W_o^T + b_o                                (L, E)
// Throws std::invalid_argument when n_heads does not divide E or a shape does not fit.
MultiHeadResult multi_head_attention(const Matrix& query, const Matrix& key, const Matrix& value,
                                     const MultiHeadWeights& w, std::size_t n_heads, const BoolMatrix& mask);

}  // namespace course

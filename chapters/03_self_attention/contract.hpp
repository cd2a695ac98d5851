// Chapter 03 — self-attention: the function you write in exercises/03_self_attention/self_attention.cpp. The
// reference is chapters/03_self_attention/solution/self_attention.cpp; chapters/03_self_attention/test.cpp checks both
// (./course check 03).
#pragma once
#include "02_dot_product_attention/contract.hpp"

namespace course {

// self_attention — one sequence attends to itself (Vaswani et al. 2017, section 3.2):
//   Q = X W_q,   K = X W_k,   V = X W_v,   then softmax(Q K^T / sqrt(d_k)) V   (chapter 02)
//   x (n, d_model), w_q (d_model, d_k), w_k (d_model, d_k), w_v (d_model, d_v)
//     ->  output (n, d_v), weights (n, n)
// Queries, keys and values are three different linear views of the same tokens: W_q turns a token
// into "what I look for", W_k into "what I offer", W_v into "what I pass on".
// The weights are stored (d_model, d_k) as in the paper, so Q = X W_q. torch.nn.Linear stores the
// transpose, (d_k, d_model), and computes x W^T: transpose a PyTorch weight before passing it here.
// Throws std::invalid_argument when a weight's rows differ from d_model or w_q and w_k differ in
// width.
AttentionResult self_attention(const Matrix& x, const Matrix& w_q, const Matrix& w_k, const Matrix& w_v);

}  // namespace course

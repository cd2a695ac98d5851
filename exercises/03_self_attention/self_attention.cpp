// Exercise 03 — self-attention.
//
// Fill in the function below, then run   ./course check 03
// The contract is in chapters/03_self_attention/contract.hpp; stuck? ./course hint 03
// matmul (chapter 01) and scaled_dot_product_attention (chapter 02) are yours to use (here they
// come from the reference).
#include "03_self_attention/contract.hpp"

#include <stdexcept>

namespace course {

// Q = X W_q, K = X W_k, V = X W_v; softmax(Q K^T / sqrt(d_k)) V
//   x (n, d_model), w_q and w_k (d_model, d_k), w_v (d_model, d_v) -> output (n, d_v), weights (n, n)
AttentionResult self_attention(const Matrix& x, const Matrix& w_q, const Matrix& w_k, const Matrix& w_v) {
  // TODO: 1. check the shapes: every weight has d_model = x.shape(1) rows, and w_q and w_k have the
  //          same number of columns; else throw std::invalid_argument("...")
  // TODO: 2. Q = X W_q, K = X W_k, V = X W_v        (matmul)
  // TODO: 3. return the attention of Q, K, V         (scaled_dot_product_attention)
  throw not_implemented("exercise 03: self_attention");
}

}  // namespace course

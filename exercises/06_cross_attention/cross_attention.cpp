// Exercise 06 — cross-attention.
//
// Fill in the function below, then run   ./course check 06
// The contract is in chapters/06_cross_attention/contract.hpp; stuck? ./course hint 06
// matmul (chapter 01) and scaled_dot_product_attention (chapter 02) are yours to use.
#include "06_cross_attention/contract.hpp"

#include <stdexcept>

namespace course {

// Q = x_q W_q, K = x_kv W_k, V = x_kv W_v; then softmax(Q K^T / sqrt(d_k)) V
AttentionResult cross_attention(const Matrix& x_q, const Matrix& x_kv, const Matrix& w_q, const Matrix& w_k,
                                const Matrix& w_v) {
  // TODO: 1. throw std::invalid_argument if x_q's width is not w_q's rows, or x_kv's width is not the rows
  //          of w_k and w_v
  // TODO: 2. Q from x_q; K and V from x_kv
  // TODO: 3. return the scaled dot-product attention of Q, K, V
  throw not_implemented("exercise 06: cross_attention");
}

}  // namespace course

// Exercise 02 — scaled dot-product attention.
//
// Fill in the function below, then run   ./course check 02
// The contract is in chapters/02_dot_product_attention/contract.hpp; stuck? ./course hint 02
// matmul and softmax_rows from chapter 01 are yours to use (here they come from the reference).
#include "02_dot_product_attention/contract.hpp"

#include <stdexcept>

namespace course {

// softmax(q k^T / sqrt(d_k)) v
//   q (L, d_k), k (S, d_k), v (S, d_v) -> output (L, d_v), weights (L, S)
AttentionResult scaled_dot_product_attention(const Matrix& q, const Matrix& k, const Matrix& v) {
  // TODO: 1. check the shapes: q.shape(1) == k.shape(1) and k.shape(0) == v.shape(0),
  //          else throw std::invalid_argument("...")
  // TODO: 2. scores (L, S) = q k^T / sqrt(d_k)      (xt::transpose(k) gives k^T)
  // TODO: 3. weights (L, S) = softmax_rows(scores)
  // TODO: 4. output (L, d_v) = weights v
  throw not_implemented("exercise 02: scaled_dot_product_attention");
}

}  // namespace course

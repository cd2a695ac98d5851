// Exercise 13 — backpropagation.
//
// Fill in the two functions below, then run   ./course check 13
// The contract is in common/contracts/13_backpropagation.hpp; stuck? ./course hint 13
// matmul (chapter 01) is yours to use.
#include "contracts/13_backpropagation.hpp"

#include "contracts/01_tensors.hpp"  // matmul

#include <cmath>
#include <stdexcept>

namespace course {

// grad_s (n, m) = p ⊙ (g − ⟨g, p⟩), row by row, for p = softmax_rows(s) (n, m) and g = grad_p (n, m)
Matrix softmax_backward(const Matrix& p, const Matrix& grad_p) {
  // TODO: 1. p and grad_p must have the same shape; else throw std::invalid_argument
  // TODO: 2. for each row i: dot = sum over j of grad_p(i, j) * p(i, j)
  // TODO: 3. grad_s(i, j) = p(i, j) * (grad_p(i, j) - dot)
  throw not_implemented("exercise 13: softmax_backward");
}

// dv = Pᵀ dO, dP = dO vᵀ, dS = softmax_backward(P, dP), dq = dS k / √d_k, dk = dSᵀ q / √d_k
AttentionGradients attention_backward(const Matrix& q, const Matrix& k, const Matrix& v,
                                      const Matrix& weights, const Matrix& grad_output) {
  // TODO: 1. check the shapes: q (L, d_k), k (S, d_k), v (S, d_v), weights (L, S), grad_output (L, d_v);
  //          else throw std::invalid_argument
  // TODO: 2. the output was O = P v:  dv = Pᵀ dO,  dP = dO vᵀ
  // TODO: 3. P was the row softmax of the scores:  dS = softmax_backward(P, dP)
  // TODO: 4. the scores were q kᵀ / √d_k:  dq = dS k / √d_k,  dk = dSᵀ q / √d_k
  throw not_implemented("exercise 13: attention_backward");
}

}  // namespace course

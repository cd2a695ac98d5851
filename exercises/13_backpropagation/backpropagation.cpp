// Exercise 13 — backpropagation.
//
// Fill in the two functions below, then run   ./course check 13
// The contract is in chapters/13_backpropagation/contract.hpp; stuck? ./course hint 13
// matmul (chapter 01) is yours to use.
#include "13_backpropagation/contract.hpp"

#include "01_tensors/contract.hpp"  // matmul

#include <cmath>
#include <stdexcept>

namespace course {

// grad_s (n, m) = dL/ds for p = softmax_rows(s) (n, m) and grad_p = dL/dp (n, m)
Matrix softmax_backward(const Matrix& p, const Matrix& grad_p) {
  // TODO: refuse p and grad_p of different shapes (std::invalid_argument)
  // TODO: how does moving s_ij move every p of row i? Work out dL/ds_ij from that (docs/13, "The
  //       softmax: a Jacobian you never build")
  throw not_implemented("exercise 13: softmax_backward");
}

// dL/dq, dL/dk, dL/dv from dL/d(output), for output = softmax_rows(q kᵀ / √d_k) v with weights P
AttentionGradients attention_backward(const Matrix& q, const Matrix& k, const Matrix& v,
                                      const Matrix& weights, const Matrix& grad_output) {
  // TODO: refuse shapes that do not fit (std::invalid_argument; the contract lists them)
  // TODO: walk the forward's three lines backwards, last line first; each turns the gradient of its
  //       result into the gradients of what it used (softmax_backward is one of the three)
  throw not_implemented("exercise 13: attention_backward");
}

}  // namespace course

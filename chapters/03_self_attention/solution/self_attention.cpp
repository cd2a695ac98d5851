// Chapter 03 — reference solution (the contract is in chapters/03_self_attention/contract.hpp).
#include "03_self_attention/contract.hpp"

#include "linalg.hpp"  // product

#include <fmt/format.h>

#include <stdexcept>

namespace course {

// Q = X W_q, K = X W_k, V = X W_v; softmax(Q K^T / sqrt(d_k)) V
//   x (n, d_model), w_q and w_k (d_model, d_k), w_v (d_model, d_v) -> output (n, d_v), weights (n, n)
// The reference multiplies with product (common/linalg.hpp, OpenBLAS's dgemm), not matmul: the
// course's own layers run on BLAS. Your matmul is the same math; only the order of the additions, so
// the last bits, may differ.
AttentionResult self_attention(const Matrix& x, const Matrix& w_q, const Matrix& w_k, const Matrix& w_v) {
  const std::size_t d_model = x.shape(1);
  for (const Matrix* w : {&w_q, &w_k, &w_v}) {
    if (w->shape(0) != d_model) {
      throw std::invalid_argument(
          fmt::format("self_attention: x is {} but a weight is {}; weights need d_model = {} rows",
                      shape_of(x), shape_of(*w), d_model));
    }
  }
  if (w_q.shape(1) != w_k.shape(1)) {
    throw std::invalid_argument(
        fmt::format("self_attention: w_q is {} and w_k is {}; they need the same width d_k", shape_of(w_q),
                    shape_of(w_k)));
  }
  // 1. three views of the same tokens
  const Matrix q = product(x, w_q);  // (n, d_k)
  const Matrix k = product(x, w_k);  // (n, d_k)
  const Matrix v = product(x, w_v);  // (n, d_v)
  // 2. every token attends to every token, itself included
  return scaled_dot_product_attention(q, k, v);
}

}  // namespace course

// Chapter 06 — reference solution (the contract is in chapters/06_cross_attention/contract.hpp).
#include "06_cross_attention/contract.hpp"

#include "linalg.hpp"  // product

#include <fmt/format.h>

#include <stdexcept>

namespace course {

// Q = x_q W_q, K = x_kv W_k, V = x_kv W_v; then softmax(Q K^T / sqrt(d_k)) V
// The reference multiplies with product (common/linalg.hpp, OpenBLAS's dgemm), not matmul: the
// course's own layers run on BLAS. Your matmul is the same math; only the order of the additions, so
// the last bits, may differ.
AttentionResult cross_attention(const Matrix& x_q, const Matrix& x_kv, const Matrix& w_q, const Matrix& w_k,
                                const Matrix& w_v) {
  if (x_q.shape(1) != w_q.shape(0) || x_kv.shape(1) != w_k.shape(0) || x_kv.shape(1) != w_v.shape(0)) {
    throw std::invalid_argument(
        fmt::format("cross_attention: x_q {}, x_kv {} do not fit w_q {}, w_k {}, w_v {}", shape_of(x_q),
                    shape_of(x_kv), shape_of(w_q), shape_of(w_k), shape_of(w_v)));
  }
  // 1. the three projections: the queries from x_q, the keys and values from x_kv
  const Matrix q = product(x_q, w_q);   // (L, d_k)
  const Matrix k = product(x_kv, w_k);  // (S, d_k)
  const Matrix v = product(x_kv, w_v);  // (S, d_v)
  // 2. scaled dot-product attention (checks that q and k have the same width d_k)
  return scaled_dot_product_attention(q, k, v);
}

}  // namespace course

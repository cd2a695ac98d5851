// Chapter 02 — reference solution (the contract is in chapters/02_dot_product_attention/contract.hpp).
#include "02_dot_product_attention/contract.hpp"

#include "linalg.hpp"  // product, product_nt

#include <fmt/format.h>

#include <stdexcept>

namespace course {

// softmax(q k^T / sqrt(d_k)) v
//   q (L, d_k), k (S, d_k), v (S, d_v) -> output (L, d_v), weights (L, S)
// The reference multiplies with product and product_nt (common/linalg.hpp, OpenBLAS's dgemm), not
// matmul: the course's own layers run on BLAS, and product_nt(q, k) = q kᵀ reads k as stored, without
// copying its transpose. Your matmul is the same math; only the order of the additions, so the last
// bits, may differ.
AttentionResult scaled_dot_product_attention(const Matrix& q, const Matrix& k, const Matrix& v) {
  if (q.shape(1) != k.shape(1)) {
    throw std::invalid_argument(fmt::format("attention: q is {} and k is {}; they need the same width d_k",
                                            shape_of(q), shape_of(k)));
  }
  if (k.shape(0) != v.shape(0)) {
    throw std::invalid_argument(
        fmt::format("attention: k is {} and v is {}; they need the same length S", shape_of(k), shape_of(v)));
  }
  // 1. scores (L, S): every query against every key, scaled by 1 / sqrt(d_k)
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.shape(1)));
  Matrix scores = product_nt(q, k);
  scores *= scale;  // in place: no second (L, S) matrix
  // 2. weights (L, S): each row of scores turned into probabilities
  Matrix weights = softmax_rows(scores);
  // 3. output (L, d_v): each query's weighted average of the values
  Matrix output = product(weights, v);
  return {output, weights};
}

}  // namespace course

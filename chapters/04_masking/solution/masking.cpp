// Chapter 04 — reference solutions (the contract is in chapters/04_masking/contract.hpp).
#include "04_masking/contract.hpp"

#include "linalg.hpp"  // product, product_nt

#include <fmt/format.h>

#include <stdexcept>

namespace course {

// mask (n, n): true above the diagonal (the future)
BoolMatrix causal_mask(std::size_t n) {
  BoolMatrix mask = xt::zeros<bool>({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) mask(i, j) = true;
  return mask;
}

// softmax(q k^T / sqrt(d_k) with -inf where masked) v
//   q (L, d_k), k (S, d_k), v (S, d_v), mask (L, S) -> output (L, d_v), weights (L, S)
// The reference multiplies with product and product_nt (common/linalg.hpp, OpenBLAS's dgemm), not
// matmul: the course's own layers run on BLAS, and product_nt(q, k) = q kᵀ reads k as stored, without
// copying its transpose. Your matmul is the same math; only the order of the additions, so the last
// bits, may differ.
AttentionResult masked_attention(const Matrix& q, const Matrix& k, const Matrix& v, const BoolMatrix& mask) {
  const std::size_t L = q.shape(0), S = k.shape(0);
  if (q.shape(1) != k.shape(1) || v.shape(0) != S) {
    throw std::invalid_argument(
        fmt::format("masked_attention: q {}, k {}, v {} do not fit", shape_of(q), shape_of(k), shape_of(v)));
  }
  if (mask.shape(0) != L || mask.shape(1) != S) {
    throw std::invalid_argument(
        fmt::format("masked_attention: mask is {} but must be (L, S) = ({}, {})", shape_of(mask), L, S));
  }
  // 1. scaled scores (L, S), with -inf where the mask forbids
  Matrix scores = product_nt(q, k);
  scores /= std::sqrt(static_cast<double>(q.shape(1)));  // in place: no second (L, S) matrix
  for (std::size_t i = 0; i < L; ++i)
    for (std::size_t j = 0; j < S; ++j)
      if (mask(i, j)) scores(i, j) = -INFINITY;
  // 2. softmax row by row; a row with no allowed key has no softmax (0 / 0): its weights stay 0
  Matrix weights = xt::zeros<double>({L, S});
  for (std::size_t i = 0; i < L; ++i) {
    bool any_allowed = false;
    for (std::size_t j = 0; j < S; ++j) any_allowed = any_allowed || !mask(i, j);
    if (!any_allowed) continue;
    // row i as a (1, S) matrix. (A view of more rows, xt::range(i, i + 2), would give row i the same
    // weights: softmax_rows works row by row, and xt::range stops at the last row. One row is all the
    // work needed; no test can tell the two apart.)
    const Matrix row = xt::view(scores, xt::range(i, i + 1), xt::all());
    xt::view(weights, i, xt::all()) = xt::view(softmax_rows(row), 0, xt::all());
  }
  // 3. output (L, d_v): a zero row where the weights are all zero
  Matrix output = product(weights, v);
  return {output, weights};
}

}  // namespace course

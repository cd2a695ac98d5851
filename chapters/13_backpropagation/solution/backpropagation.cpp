// Chapter 13 — reference solutions (the contract is in chapters/13_backpropagation/contract.hpp).
#include "13_backpropagation/contract.hpp"

#include "linalg.hpp"  // product, product_tn, product_nt

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace course {

// grad_s (n, m) = p ⊙ (g − ⟨g, p⟩), row by row, for p = softmax_rows(s) (n, m) and g = grad_p (n, m)
Matrix softmax_backward(const Matrix& p, const Matrix& grad_p) {
  if (p.shape() != grad_p.shape()) {
    throw std::invalid_argument(
        fmt::format("softmax_backward: p is {} but grad_p is {}; they must have one shape", shape_of(p),
                    shape_of(grad_p)));
  }
  const std::size_t n = p.shape(0), m = p.shape(1);
  Matrix grad_s = Matrix::from_shape({n, m});
  for (std::size_t i = 0; i < n; ++i) {
    // 1. ⟨g, p⟩ for this row: how much the loss changes when the whole row moves with p
    double dot = 0.0;
    for (std::size_t j = 0; j < m; ++j) dot += grad_p(i, j) * p(i, j);
    // 2. each entry: p_j (g_j − ⟨g, p⟩); p_j = 0 gives exactly 0
    for (std::size_t j = 0; j < m; ++j) grad_s(i, j) = p(i, j) * (grad_p(i, j) - dot);
  }
  return grad_s;
}

// dv = Pᵀ dO, dP = dO vᵀ, dS = softmax_backward(P, dP), dq = dS k / √d_k, dk = dSᵀ q / √d_k
// The reference multiplies with product, product_tn and product_nt (common/linalg.hpp, OpenBLAS's
// dgemm), not matmul: the course's own layers run on BLAS, and product_tn (Pᵀ dO, dSᵀ q) and
// product_nt (dO vᵀ) read the transposed matrix as stored, without copying it. Your matmul is the same
// math; only the order of the additions, so the last bits, may differ.
AttentionGradients attention_backward(const Matrix& q, const Matrix& k, const Matrix& v,
                                      const Matrix& weights, const Matrix& grad_output) {
  const std::size_t L = q.shape(0), S = k.shape(0), d_k = q.shape(1), d_v = v.shape(1);
  if (k.shape(1) != d_k || v.shape(0) != S) {
    throw std::invalid_argument(fmt::format("attention_backward: q {}, k {}, v {} do not fit", shape_of(q),
                                            shape_of(k), shape_of(v)));
  }
  if (weights.shape(0) != L || weights.shape(1) != S) {
    throw std::invalid_argument(fmt::format(
        "attention_backward: weights are {} but must be (L, S) = ({}, {})", shape_of(weights), L, S));
  }
  if (grad_output.shape(0) != L || grad_output.shape(1) != d_v) {
    throw std::invalid_argument(
        fmt::format("attention_backward: grad_output is {} but must be (L, d_v) = ({}, {})",
                    shape_of(grad_output), L, d_v));
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(d_k));
  AttentionGradients g;
  // 1. O = P v:  dv = Pᵀ dO (S, d_v),  dP = dO vᵀ (L, S)
  g.v = product_tn(weights, grad_output);
  const Matrix grad_p = product_nt(grad_output, v);
  // 2. P = softmax(S) row by row
  const Matrix grad_s = softmax_backward(weights, grad_p);
  // 3. S = q kᵀ / √d_k:  dq = dS k / √d_k (L, d_k),  dk = dSᵀ q / √d_k (S, d_k)
  g.q = product(grad_s, k) * scale;
  g.k = product_tn(grad_s, q) * scale;
  return g;
}

}  // namespace course

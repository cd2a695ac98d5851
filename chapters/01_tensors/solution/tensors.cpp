// Chapter 01 — reference solutions (the contract is in chapters/01_tensors/contract.hpp).
#include "01_tensors/contract.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace course {

// c (n, m) = a (n, k) · b (k, m)
Matrix matmul(const Matrix& a, const Matrix& b) {
  if (a.shape(1) != b.shape(0)) {
    throw std::invalid_argument(fmt::format("matmul: a is {} and b is {}; a's columns must equal b's rows",
                                            shape_of(a), shape_of(b)));
  }
  const std::size_t n = a.shape(0), k = a.shape(1), m = b.shape(1);
  Matrix c = xt::zeros<double>({n, m});
  // Loop order i, p, j: the inner loop walks rows of b and c contiguously (row-major), and each
  // c[i][j] still adds its k terms in the order p = 0, 1, ..., k-1.
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t p = 0; p < k; ++p) {
      const double a_ip = a(i, p);
      for (std::size_t j = 0; j < m; ++j) {
        c(i, j) += a_ip * b(p, j);
      }
    }
  }
  return c;
}

// p (n, m) = softmax of each row of scores (n, m), stabilised by the row maximum
Matrix softmax_rows(const Matrix& scores) {
  const std::size_t n = scores.shape(0), m = scores.shape(1);
  Matrix p(scores.shape());
  for (std::size_t i = 0; i < n; ++i) {
    // 1. the row's maximum (exp of anything minus it is at most 1: no overflow)
    double mx = -INFINITY;
    for (std::size_t j = 0; j < m; ++j) mx = std::max(mx, scores(i, j));
    // 2. shifted exponentials and their sum (the sum is at least 1: the maximum gives exp(0))
    double sum = 0.0;
    for (std::size_t j = 0; j < m; ++j) {
      p(i, j) = std::exp(scores(i, j) - mx);
      sum += p(i, j);
    }
    // 3. normalise
    for (std::size_t j = 0; j < m; ++j) p(i, j) /= sum;
  }
  return p;
}

}  // namespace course

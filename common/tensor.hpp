// Tensor aliases, the two exceptions every chapter uses, and small helpers on shapes.
#pragma once
#include <xtensor/xtensor.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace course {

// Everything in the course computes in double: exactness first (CONTRIBUTING.md, Conventions).
using Matrix = xt::xtensor<double, 2>;    // (rows, cols), row-major
using Vector = xt::xtensor<double, 1>;    // (n)
using Tensor3 = xt::xtensor<double, 3>;   // e.g. (heads, L, S), or an image (C, H, W)
using Tensor4 = xt::xtensor<double, 4>;   // e.g. conv2d weights (C_out, C_in, KH, KW)
using BoolMatrix = xt::xtensor<bool, 2>;  // masks: true means "may not attend" (PyTorch's meaning)
using BoolVector = xt::xtensor<bool, 1>;
using Labels = std::vector<std::string>;  // token names for rows / columns

// Thrown by an exercise stub until the student fills it in, e.g.
//   throw not_implemented("exercise 02: scaled_dot_product_attention");
struct not_implemented : std::logic_error {
  explicit not_implemented(const std::string& what) : std::logic_error("not implemented yet: " + what) {}
};

// Bad input (a flag, a size, a file): the program prints it on one line and exits with code 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "(4, 3)" for a tensor of shape {4, 3}.
template <class E>
std::string shape_of(const E& e) {
  std::string s = "(";
  for (std::size_t i = 0; i < e.dimension(); ++i) {
    s += (i ? ", " : "") + std::to_string(e.shape()[i]);
  }
  return s + (e.dimension() == 1 ? ",)" : ")");
}

// Largest |a - b| over all elements; +inf if the shapes differ or a NaN shows up.
template <class A, class B>
double max_abs_diff(const A& a, const B& b) {
  if (a.dimension() != b.dimension() || !std::equal(a.shape().begin(), a.shape().end(), b.shape().begin())) {
    return INFINITY;
  }
  double worst = 0.0;
  auto ia = a.begin();
  for (auto ib = b.begin(); ib != b.end(); ++ia, ++ib) {
    const double d = std::abs(static_cast<double>(*ia) - static_cast<double>(*ib));
    if (std::isnan(d)) return INFINITY;
    worst = std::max(worst, d);
  }
  return worst;
}

// permute_rows — the rows of m reordered: row i of the result is row perm[i] of m, i.e. P m for the
// permutation matrix P with P[i][perm[i]] = 1.   m (n, d), perm (n) a permutation of 0..n-1  ->  (n, d)
inline Matrix permute_rows(const Matrix& m, const std::vector<std::size_t>& perm) {
  Matrix out = Matrix::from_shape({perm.size(), m.shape(1)});
  for (std::size_t i = 0; i < perm.size(); ++i)
    for (std::size_t j = 0; j < m.shape(1); ++j) out(i, j) = m(perm[i], j);
  return out;
}

}  // namespace course

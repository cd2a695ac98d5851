// Tensor aliases, the two exceptions every chapter uses, and small helpers on shapes.
#pragma once
#include <xtensor/xtensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
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
using Int64Vector = xt::xtensor<std::int64_t, 1>;  // token ids, as PyTorch's int64 (torch.long) tensors
using Labels = std::vector<std::string>;           // token names for rows / columns

// Thrown by an exercise stub until the student fills it in, e.g.
//   throw not_implemented("exercise 02: scaled_dot_product_attention");
struct not_implemented : std::logic_error {
  explicit not_implemented(const std::string& what) : std::logic_error("not implemented yet: " + what) {}
};

// Bad input (a flag, a size, a file): the program prints it on one line and exits with code 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A value the user gave (a flag's text, a path, a header field) as it may appear in an error message:
// at most about `max_bytes` bytes (a 10 kB value keeps its start and its end, with "..." between), and
// control characters (newlines, escape sequences) shown as '?', so the message stays one short line.
inline std::string shorten(const std::string& text, std::size_t max_bytes = 80) {
  std::string s = text;
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  if (s.size() <= max_bytes) return s;
  // cut on UTF-8 character boundaries (continuation bytes are 10xxxxxx)
  const auto boundary = [&](std::size_t i) {
    while (i > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
    return i;
  };
  const std::size_t head = boundary(max_bytes * 2 / 3), tail = boundary(s.size() - max_bytes / 3 + 3);
  return s.substr(0, head) + "..." + s.substr(tail);
}

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

// max_row_sum_error — how far the rows of m are from summing to 1, as attention weights and softmaxes
// do:  max over rows i of |sum_j m[i][j] - 1|, the sum taken left to right.   m (n, k)  ->  a number
// (0 for a matrix of no rows); +inf if a NaN shows up.
inline double max_row_sum_error(const Matrix& m) {
  double worst = 0.0;
  for (std::size_t i = 0; i < m.shape(0); ++i) {
    double sum = 0.0;
    for (std::size_t j = 0; j < m.shape(1); ++j) sum += m(i, j);
    const double error = std::abs(sum - 1.0);
    if (std::isnan(error)) return INFINITY;
    worst = std::max(worst, error);
  }
  return worst;
}

}  // namespace course

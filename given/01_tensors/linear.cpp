// Chapter 01 — given code (declared in common/given/01_tensors.hpp).
#include "given/01_tensors.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace course {

// y = x W^T + b:  x (n, in), w (out, in), b (out)  ->  (n, out)
Matrix linear(const Matrix& x, const Matrix& w, const Vector& b) {
  if (b.size() != w.shape(0)) {
    throw std::invalid_argument(fmt::format("linear: weight {} has {} rows but the bias has {} entries",
                                            shape_of(w), w.shape(0), b.size()));
  }
  const Matrix w_t = xt::transpose(w);
  Matrix y = matmul(x, w_t);  // (n, in) x (in, out); matmul refuses x's columns != w's columns
  for (std::size_t i = 0; i < y.shape(0); ++i)
    for (std::size_t j = 0; j < y.shape(1); ++j) y(i, j) += b(j);
  return y;
}

}  // namespace course

// Chapter 01 — given code (declared in chapters/01_tensors/given.hpp).
#include "01_tensors/given.hpp"

#include "linalg.hpp"  // product_nt

#include <fmt/format.h>

#include <stdexcept>

namespace course {

// y = x W^T + b:  x (n, in), w (out, in), b (out)  ->  (n, out)
// x W^T goes through product_nt (common/linalg.hpp): the course's own layers run on BLAS, and
// product_nt(x, w) reads W as stored, so no transpose is copied. It is the same sum as
// matmul(x, transpose(w)); only the order of the additions, so the last bits, may differ.
Matrix linear(const Matrix& x, const Matrix& w, const Vector& b) {
  if (b.size() != w.shape(0)) {
    throw std::invalid_argument(fmt::format("linear: weight {} has {} rows but the bias has {} entries",
                                            shape_of(w), w.shape(0), b.size()));
  }
  Matrix y = product_nt(x, w);  // (n, in) x (in, out); product_nt refuses x's columns != w's columns
  for (std::size_t i = 0; i < y.shape(0); ++i)
    for (std::size_t j = 0; j < y.shape(1); ++j) y(i, j) += b(j);
  return y;
}

}  // namespace course

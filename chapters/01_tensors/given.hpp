// Chapter 01 — given code: given to you (not an exercise). Defined in chapters/01_tensors/given/, compiled with
// both the reference and your exercise. Its product runs on BLAS (common/linalg.hpp), not on your
// matmul: linear is the layer every later chapter's multi-head attention, feed-forward and training
// run through, so it is as fast as the library makes it. The math is your matmul's.
#pragma once
#include "01_tensors/contract.hpp"

namespace course {

// linear — torch.nn.Linear's forward: y = x W^T + b, with x W^T as product_nt(x, w) (OpenBLAS's dgemm).
//   x (n, in), w (out, in), b (out)  ->  y (n, out),   y[i][j] = sum over p of x[i][p] * w[j][p] + b[j]
// PyTorch stores a Linear's weight as (out, in), so the product is with its transpose.
// Throws std::invalid_argument when x's columns differ from w's columns or b is not `out` long.
Matrix linear(const Matrix& x, const Matrix& w, const Vector& b);

}  // namespace course

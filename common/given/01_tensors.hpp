// Chapter 01 — given code: built on the functions you write in exercise 01, given to you (not an
// exercise). Defined in given/01_tensors/, compiled with both the reference and your exercise, so
// it runs on whichever matmul the program or test is linked with.
#pragma once
#include "contracts/01_tensors.hpp"

namespace course {

// linear — torch.nn.Linear's forward: y = x W^T + b, on chapter 01's matmul.
//   x (n, in), w (out, in), b (out)  ->  y (n, out),   y[i][j] = sum over p of x[i][p] * w[j][p] + b[j]
// PyTorch stores a Linear's weight as (out, in), so the product is with its transpose.
// Throws std::invalid_argument when x's columns differ from w's columns or b is not `out` long.
Matrix linear(const Matrix& x, const Matrix& w, const Vector& b);

}  // namespace course

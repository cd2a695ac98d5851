// Chapter 01 — tensors: the functions you write in exercises/01_tensors/tensors.cpp. The reference is
// chapters/01_tensors/solution/tensors.cpp; chapters/01_tensors/test.cpp checks both (./course check 01). Code the
// course gives for this chapter (not an exercise) is in chapters/01_tensors/given.hpp.
#pragma once
#include "tensor.hpp"

namespace course {

// matmul — the matrix product C = A B.
//   a (n, k), b (k, m)  ->  c (n, m),   c[i][j] = sum over p of a[i][p] * b[p][j]
// Throws std::invalid_argument when a's columns differ from b's rows.
// Write it with three plain loops; chapter 01's program compares it with OpenBLAS.
Matrix matmul(const Matrix& a, const Matrix& b);

// softmax_rows — turns each row of scores into probabilities.
//   scores (n, m)  ->  p (n, m),   p[i][j] = exp(s[i][j] - mx_i) / sum over j' of exp(s[i][j'] - mx_i)
//   where mx_i = max over j of s[i][j].
// Subtracting the row's maximum changes nothing mathematically (it cancels) but keeps exp() from
// overflowing, so scores around ±1e4 give exact results instead of inf/inf = NaN.
// A score of -inf gets weight exactly 0 (chapter 04 masks with it). Every row must hold at least one
// finite score (chapter 04 decides what a row with none means).
Matrix softmax_rows(const Matrix& scores);

}  // namespace course

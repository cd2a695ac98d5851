// Chapter 13 — given code (not an exercise), defined in given/13_backpropagation/ and compiled with both the
// reference and your exercise, so it runs on whichever backpropagation_row_sums it is linked with.
#pragma once
#include "contracts/13_backpropagation.hpp"

namespace course {

// backpropagation_row_means — the mean of each row, on backpropagation_row_sums (a placeholder for the chapter's given code):
//   x (n, m)  ->  mean (n),   mean[i] = backpropagation_row_sums(x)[i] / m
// Throws std::invalid_argument when m is 0.
Vector backpropagation_row_means(const Matrix& x);

}  // namespace course

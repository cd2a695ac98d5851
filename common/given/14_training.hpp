// Chapter 14 — given code (not an exercise), defined in given/14_training/ and compiled with both the
// reference and your exercise, so it runs on whichever training_row_sums it is linked with.
#pragma once
#include "contracts/14_training.hpp"

namespace course {

// training_row_means — the mean of each row, on training_row_sums (a placeholder for the chapter's given code):
//   x (n, m)  ->  mean (n),   mean[i] = training_row_sums(x)[i] / m
// Throws std::invalid_argument when m is 0.
Vector training_row_means(const Matrix& x);

}  // namespace course

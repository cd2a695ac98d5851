// Chapter 17 — given code (not an exercise), defined in given/17_fast_generation/ and compiled with both the
// reference and your exercise, so it runs on whichever fast_generation_row_sums it is linked with.
#pragma once
#include "contracts/17_fast_generation.hpp"

namespace course {

// fast_generation_row_means — the mean of each row, on fast_generation_row_sums (a placeholder for the chapter's given code):
//   x (n, m)  ->  mean (n),   mean[i] = fast_generation_row_sums(x)[i] / m
// Throws std::invalid_argument when m is 0.
Vector fast_generation_row_means(const Matrix& x);

}  // namespace course

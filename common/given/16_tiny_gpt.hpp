// Chapter 16 — given code (not an exercise), defined in given/16_tiny_gpt/ and compiled with both the
// reference and your exercise, so it runs on whichever tiny_gpt_row_sums it is linked with.
#pragma once
#include "contracts/16_tiny_gpt.hpp"

namespace course {

// tiny_gpt_row_means — the mean of each row, on tiny_gpt_row_sums (a placeholder for the chapter's given code):
//   x (n, m)  ->  mean (n),   mean[i] = tiny_gpt_row_sums(x)[i] / m
// Throws std::invalid_argument when m is 0.
Vector tiny_gpt_row_means(const Matrix& x);

}  // namespace course

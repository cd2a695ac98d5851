// Chapter 16 — Tiny gpt: the function you write in exercises/16_tiny_gpt/tiny_gpt.cpp. The reference is
// solutions/16_tiny_gpt/tiny_gpt.cpp; tests/test_16_tiny_gpt.cpp checks both (./course check 16). Code the
// course gives for this chapter (not an exercise) is in common/given/16_tiny_gpt.hpp.
#pragma once
#include "tensor.hpp"

namespace course {

// tiny_gpt_row_sums — the sum of each row. (A placeholder made by tools/new_chapter.sh: replace it with the
// chapter's first exercise, keeping the form: the formula, the shapes in and out, the source, what
// it throws.)
//   x (n, m)  ->  s (n),   s[i] = sum over j of x[i][j]
Vector tiny_gpt_row_sums(const Matrix& x);

}  // namespace course

// Chapter 13 — Backpropagation: the function you write in exercises/13_backpropagation/backpropagation.cpp. The reference is
// solutions/13_backpropagation/backpropagation.cpp; tests/test_13_backpropagation.cpp checks both (./course check 13). Code the
// course gives for this chapter (not an exercise) is in common/given/13_backpropagation.hpp.
#pragma once
#include "tensor.hpp"

namespace course {

// backpropagation_row_sums — the sum of each row. (A placeholder made by tools/new_chapter.sh: replace it with the
// chapter's first exercise, keeping the form: the formula, the shapes in and out, the source, what
// it throws.)
//   x (n, m)  ->  s (n),   s[i] = sum over j of x[i][j]
Vector backpropagation_row_sums(const Matrix& x);

}  // namespace course

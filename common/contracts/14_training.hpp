// Chapter 14 — Training: the function you write in exercises/14_training/training.cpp. The reference is
// solutions/14_training/training.cpp; tests/test_14_training.cpp checks both (./course check 14). Code the
// course gives for this chapter (not an exercise) is in common/given/14_training.hpp.
#pragma once
#include "tensor.hpp"

namespace course {

// training_row_sums — the sum of each row. (A placeholder made by tools/new_chapter.sh: replace it with the
// chapter's first exercise, keeping the form: the formula, the shapes in and out, the source, what
// it throws.)
//   x (n, m)  ->  s (n),   s[i] = sum over j of x[i][j]
Vector training_row_sums(const Matrix& x);

}  // namespace course

// Chapter 17 — Fast generation: the function you write in exercises/17_fast_generation/fast_generation.cpp. The reference is
// solutions/17_fast_generation/fast_generation.cpp; tests/test_17_fast_generation.cpp checks both (./course check 17). Code the
// course gives for this chapter (not an exercise) is in common/given/17_fast_generation.hpp.
#pragma once
#include "tensor.hpp"

namespace course {

// fast_generation_row_sums — the sum of each row. (A placeholder made by tools/new_chapter.sh: replace it with the
// chapter's first exercise, keeping the form: the formula, the shapes in and out, the source, what
// it throws.)
//   x (n, m)  ->  s (n),   s[i] = sum over j of x[i][j]
Vector fast_generation_row_sums(const Matrix& x);

}  // namespace course

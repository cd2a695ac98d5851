// Chapter 07 — positional encoding: the functions you write in
// exercises/07_positional_encoding/positional_encoding.cpp. The reference is
// chapters/07_positional_encoding/solution/positional_encoding.cpp; chapters/07_positional_encoding/test.cpp checks both
// (./course check 07). Code the course gives for this chapter (not an exercise) is in
// chapters/07_positional_encoding/given.hpp.
#pragma once
#include "tensor.hpp"

namespace course {

// sinusoidal_encoding — Vaswani et al. (2017), section 3.5:
//   PE[p][2i]   = sin(p / 10000^(2i / d_model))
//   PE[p][2i+1] = cos(p / 10000^(2i / d_model))        for p = 0..n_positions-1, i = 0..d_model/2-1
//   n_positions, d_model  ->  pe (n_positions, d_model)
// Each pair of columns (2i, 2i+1) is a clock hand turning at its own speed 1 / 10000^(2i/d_model).
// Throws std::invalid_argument if d_model is 0 or odd.
Matrix sinusoidal_encoding(std::size_t n_positions, std::size_t d_model);

// apply_rope — rotary position embedding (Su et al. 2021, RoFormer, equation 34): row r of x is the
// vector at position p = first_position + r; each pair of features (2i, 2i+1) is rotated by the
// angle p * theta_i, theta_i = 10000^(-2i / d):
//   out[r][2i]   = x[r][2i] cos(p theta_i) - x[r][2i+1] sin(p theta_i)
//   out[r][2i+1] = x[r][2i] sin(p theta_i) + x[r][2i+1] cos(p theta_i)
//   x (n, d), first_position  ->  (n, d)
// Applied to queries and keys, the score q_m . k_n depends on the positions only through m - n.
// (This pairs neighbouring features as the paper does; some libraries pair i with i + d/2 instead.)
// Throws std::invalid_argument if d is 0 or odd.
Matrix apply_rope(const Matrix& x, std::size_t first_position);

}  // namespace course

// Chapter 07 — given code (not an exercise), defined in chapters/07_positional_encoding/given/ and compiled
// with both the reference and your exercise.
#pragma once
#include "07_positional_encoding/contract.hpp"

namespace course {

// rotation — the fixed rotation R_k that moves the sinusoidal encoding k positions on:
//   PE(p + k) = R_k PE(p)  (PE(p) a column vector, the same R_k for every p)
//   d (even), k  ->  R_k (d, d): block diagonal, one 2 x 2 rotation per (sin, cos) pair i,
//   by the angle b_i = k * omega_i, omega_i = 1 / 10000^(2i/d):
//     [sin(a + b)]   [ cos b   sin b] [sin a]
//     [cos(a + b)] = [-sin b   cos b] [cos a]
Matrix rotation(std::size_t d, double k);

}  // namespace course

// Exercise 07 — positional encoding.
//
// Fill in the two functions below, then run   ./course check 07
// The contract is in chapters/07_positional_encoding/contract.hpp; stuck? ./course hint 07
#include "07_positional_encoding/contract.hpp"

#include <stdexcept>

namespace course {

// pe (n_positions, d_model): sin in even columns, cos in odd ones, frequency 1 / 10000^(2i/d_model)
Matrix sinusoidal_encoding(std::size_t n_positions, std::size_t d_model) {
  // TODO: 1. throw std::invalid_argument if d_model is 0 or odd
  // TODO: 2. for every position p and pair i: angle = p / 10000^(2i / d_model)   (std::pow)
  //          pe(p, 2i) = sin(angle), pe(p, 2i + 1) = cos(angle)
  throw not_implemented("exercise 07: sinusoidal_encoding");
}

// Rotate each feature pair (2i, 2i+1) of row r by (first_position + r) * theta_i
Matrix apply_rope(const Matrix& x, std::size_t first_position) {
  // TODO: 1. throw std::invalid_argument if the width d is 0 or odd
  // TODO: 2. for row r at position p = first_position + r, and each pair i:
  //          theta_i = 10000^(-2i / d); rotate (x(r, 2i), x(r, 2i+1)) by the angle p * theta_i
  throw not_implemented("exercise 07: apply_rope");
}

}  // namespace course

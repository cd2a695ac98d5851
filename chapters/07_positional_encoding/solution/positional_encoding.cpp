// Chapter 07 — reference solutions (the contract is in chapters/07_positional_encoding/contract.hpp).
#include "07_positional_encoding/contract.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace course {

namespace {
void require_even(std::size_t d, const char* who) {
  if (d == 0 || d % 2 != 0) {
    throw std::invalid_argument(fmt::format("{}: d_model must be even and positive, got {}", who, d));
  }
}
}  // namespace

// pe (n_positions, d_model): sin in even columns, cos in odd ones, frequency 1 / 10000^(2i/d_model)
Matrix sinusoidal_encoding(std::size_t n_positions, std::size_t d_model) {
  require_even(d_model, "sinusoidal_encoding");
  Matrix pe = Matrix::from_shape({n_positions, d_model});
  for (std::size_t p = 0; p < n_positions; ++p) {
    for (std::size_t i = 0; i < d_model / 2; ++i) {
      const double angle = static_cast<double>(p) / std::pow(10000.0, 2.0 * i / static_cast<double>(d_model));
      pe(p, 2 * i) = std::sin(angle);
      pe(p, 2 * i + 1) = std::cos(angle);
    }
  }
  return pe;
}

// Rotate each feature pair (2i, 2i+1) of row r by (first_position + r) * theta_i
Matrix apply_rope(const Matrix& x, std::size_t first_position) {
  const std::size_t n = x.shape(0), d = x.shape(1);
  require_even(d, "apply_rope");
  Matrix out = Matrix::from_shape({n, d});
  for (std::size_t r = 0; r < n; ++r) {
    const double p = static_cast<double>(first_position + r);
    for (std::size_t i = 0; i < d / 2; ++i) {
      const double theta = std::pow(10000.0, -2.0 * i / static_cast<double>(d));
      const double c = std::cos(p * theta), s = std::sin(p * theta);
      const double a = x(r, 2 * i), b = x(r, 2 * i + 1);
      out(r, 2 * i) = a * c - b * s;
      out(r, 2 * i + 1) = a * s + b * c;
    }
  }
  return out;
}

}  // namespace course

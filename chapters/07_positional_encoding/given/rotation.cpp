// Chapter 07 — given code (declared in chapters/07_positional_encoding/given.hpp).
#include "07_positional_encoding/given.hpp"

namespace course {

// R_k (d, d): block-diagonal rotations by k * omega_i, so that PE(p + k) = R_k PE(p)
Matrix rotation(std::size_t d, double k) {
  Matrix r = xt::zeros<double>({d, d});
  for (std::size_t i = 0; i < d / 2; ++i) {
    const double b = k / std::pow(10000.0, 2.0 * i / d);
    r(2 * i, 2 * i) = std::cos(b);
    r(2 * i, 2 * i + 1) = std::sin(b);
    r(2 * i + 1, 2 * i) = -std::sin(b);
    r(2 * i + 1, 2 * i + 1) = std::cos(b);
  }
  return r;
}

}  // namespace course

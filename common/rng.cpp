#include "rng.hpp"

namespace course {

double Rng::uniform() {
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double Rng::normal() {
  // Marsaglia polar method: draw (u, v) uniformly in the unit disc, then
  // u * sqrt(-2 ln s / s) and v * sqrt(-2 ln s / s) are two independent N(0, 1) draws.
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u = 0.0, v = 0.0, s = 0.0;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double factor = std::sqrt(-2.0 * std::log(s) / s);
  spare_ = v * factor;
  has_spare_ = true;
  return u * factor;
}

std::uint64_t Rng::below(std::uint64_t n) {
  // Reject the top partial block of 2^64 so every residue is equally likely.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  std::uint64_t x = 0;
  do {
    x = engine_();
  } while (x >= limit);
  return x % n;
}

Matrix Rng::uniform_matrix(std::size_t rows, std::size_t cols, double low, double high) {
  Matrix m = Matrix::from_shape({rows, cols});
  for (auto& x : m) x = uniform(low, high);
  return m;
}

Matrix Rng::normal_matrix(std::size_t rows, std::size_t cols) {
  Matrix m = Matrix::from_shape({rows, cols});
  for (auto& x : m) x = normal();
  return m;
}

std::vector<std::size_t> Rng::permutation(std::size_t n) {
  std::vector<std::size_t> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = i;
  for (std::size_t i = n; i > 1; --i) {
    std::swap(p[i - 1], p[below(i)]);
  }
  return p;
}

}  // namespace course

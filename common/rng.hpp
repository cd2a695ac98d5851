// Portable, reproducible random numbers.
//
// std::normal_distribution, std::uniform_real_distribution and xt::random give different numbers on
// different standard libraries (CONTRIBUTING.md). The raw output of std::mt19937_64 is fixed by the C++
// standard, so we draw from it and do every transformation ourselves: the same seed gives the same
// numbers everywhere.
#pragma once
#include "tensor.hpp"

#include <cstdint>
#include <random>

namespace course {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1): the top 53 bits of one draw, scaled by 2^-53.
  double uniform();
  // Uniform in [low, high).
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Standard normal N(0, 1), by the Marsaglia polar method (uses only uniform(), log and sqrt).
  double normal();
  // An integer in [0, n), without modulo bias (rejection sampling).
  std::uint64_t below(std::uint64_t n);

  // A (rows, cols) matrix of uniform draws in [low, high), filled row by row.
  Matrix uniform_matrix(std::size_t rows, std::size_t cols, double low, double high);
  // A (rows, cols) matrix of N(0, 1) draws, filled row by row.
  Matrix normal_matrix(std::size_t rows, std::size_t cols);
  // A random permutation of 0..n-1 (Fisher–Yates).
  std::vector<std::size_t> permutation(std::size_t n);

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace course

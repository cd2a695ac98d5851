// Chapter 17 — given code (declared in common/given/17_fast_generation.hpp).
#include "given/17_fast_generation.hpp"

#include <stdexcept>

namespace course {

// mean[i] = fast_generation_row_sums(x)[i] / m
Vector fast_generation_row_means(const Matrix& x) {
  if (x.shape(1) == 0) throw std::invalid_argument("fast_generation_row_means: x has no columns");
  Vector mean = fast_generation_row_sums(x);
  for (double& v : mean) v /= static_cast<double>(x.shape(1));
  return mean;
}

}  // namespace course

// Chapter 16 — given code (declared in common/given/16_tiny_gpt.hpp).
#include "given/16_tiny_gpt.hpp"

#include <stdexcept>

namespace course {

// mean[i] = tiny_gpt_row_sums(x)[i] / m
Vector tiny_gpt_row_means(const Matrix& x) {
  if (x.shape(1) == 0) throw std::invalid_argument("tiny_gpt_row_means: x has no columns");
  Vector mean = tiny_gpt_row_sums(x);
  for (double& v : mean) v /= static_cast<double>(x.shape(1));
  return mean;
}

}  // namespace course

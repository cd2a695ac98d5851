// Chapter 13 — given code (declared in common/given/13_backpropagation.hpp).
#include "given/13_backpropagation.hpp"

#include <stdexcept>

namespace course {

// mean[i] = backpropagation_row_sums(x)[i] / m
Vector backpropagation_row_means(const Matrix& x) {
  if (x.shape(1) == 0) throw std::invalid_argument("backpropagation_row_means: x has no columns");
  Vector mean = backpropagation_row_sums(x);
  for (double& v : mean) v /= static_cast<double>(x.shape(1));
  return mean;
}

}  // namespace course

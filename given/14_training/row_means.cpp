// Chapter 14 — given code (declared in common/given/14_training.hpp).
#include "given/14_training.hpp"

#include <stdexcept>

namespace course {

// mean[i] = training_row_sums(x)[i] / m
Vector training_row_means(const Matrix& x) {
  if (x.shape(1) == 0) throw std::invalid_argument("training_row_means: x has no columns");
  Vector mean = training_row_sums(x);
  for (double& v : mean) v /= static_cast<double>(x.shape(1));
  return mean;
}

}  // namespace course

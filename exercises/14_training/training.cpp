// Exercise 14 — Training.
//
// Fill in the function below, then run   ./course check 14
// The contract is in common/contracts/14_training.hpp; stuck? ./course hint 14
#include "contracts/14_training.hpp"

namespace course {

// s (n) = sum of each row of x (n, m)
Vector training_row_sums(const Matrix& x) {
  // TODO: 1. s = an (n) vector of zeros:  Vector s = xt::zeros<double>({x.shape(0)});
  // TODO: 2. s(i) = sum over j of x(i, j)
  throw not_implemented("exercise 14: training_row_sums");
}

}  // namespace course

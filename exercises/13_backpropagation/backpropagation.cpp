// Exercise 13 — Backpropagation.
//
// Fill in the function below, then run   ./course check 13
// The contract is in common/contracts/13_backpropagation.hpp; stuck? ./course hint 13
#include "contracts/13_backpropagation.hpp"

namespace course {

// s (n) = sum of each row of x (n, m)
Vector backpropagation_row_sums(const Matrix& x) {
  // TODO: 1. s = an (n) vector of zeros:  Vector s = xt::zeros<double>({x.shape(0)});
  // TODO: 2. s(i) = sum over j of x(i, j)
  throw not_implemented("exercise 13: backpropagation_row_sums");
}

}  // namespace course

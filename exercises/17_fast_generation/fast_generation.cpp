// Exercise 17 — Fast generation.
//
// Fill in the function below, then run   ./course check 17
// The contract is in common/contracts/17_fast_generation.hpp; stuck? ./course hint 17
#include "contracts/17_fast_generation.hpp"

namespace course {

// s (n) = sum of each row of x (n, m)
Vector fast_generation_row_sums(const Matrix& x) {
  // TODO: 1. s = an (n) vector of zeros:  Vector s = xt::zeros<double>({x.shape(0)});
  // TODO: 2. s(i) = sum over j of x(i, j)
  throw not_implemented("exercise 17: fast_generation_row_sums");
}

}  // namespace course

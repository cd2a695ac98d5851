// Exercise 16 — Tiny gpt.
//
// Fill in the function below, then run   ./course check 16
// The contract is in common/contracts/16_tiny_gpt.hpp; stuck? ./course hint 16
#include "contracts/16_tiny_gpt.hpp"

namespace course {

// s (n) = sum of each row of x (n, m)
Vector tiny_gpt_row_sums(const Matrix& x) {
  // TODO: 1. s = an (n) vector of zeros:  Vector s = xt::zeros<double>({x.shape(0)});
  // TODO: 2. s(i) = sum over j of x(i, j)
  throw not_implemented("exercise 16: tiny_gpt_row_sums");
}

}  // namespace course

// Exercise 01 — tensors.
//
// Fill in the two functions below, then run   ./course check 01
// What each function takes and returns is in chapters/01_tensors/contract.hpp; stuck? ./course hint 01
#include "01_tensors/contract.hpp"

#include <stdexcept>

namespace course {

// c (n, m) = a (n, k) · b (k, m)
Matrix matmul(const Matrix& a, const Matrix& b) {
  // TODO: 1. if a.shape(1) != b.shape(0), throw std::invalid_argument("...")
  // TODO: 2. make c, an (n, m) matrix of zeros:  Matrix c = xt::zeros<double>({n, m});
  // TODO: 3. c(i, j) = sum over p of a(i, p) * b(p, j)
  throw not_implemented("exercise 01: matmul");
}

// p (n, m) = softmax of each row of scores (n, m)
Matrix softmax_rows(const Matrix& scores) {
  // TODO: for each row i:
  //   1. mx = the largest score in the row
  //   2. p(i, j) = exp(scores(i, j) - mx), and add them up
  //   3. divide the row by that sum
  throw not_implemented("exercise 01: softmax_rows");
}

}  // namespace course

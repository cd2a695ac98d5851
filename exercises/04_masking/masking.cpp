// Exercise 04 — masking.
//
// Fill in the two functions below, then run   ./course check 04
// The contract is in chapters/04_masking/contract.hpp; stuck? ./course hint 04
// matmul and softmax_rows (chapter 01) are yours to use.
#include "04_masking/contract.hpp"

#include <stdexcept>

namespace course {

// mask (n, n): true where query i may not attend to key j, i.e. where j is in i's future
BoolMatrix causal_mask(std::size_t n) {
  // TODO: 1. start from an (n, n) matrix of false:  BoolMatrix mask = xt::zeros<bool>({n, n});
  // TODO: 2. set mask(i, j) = true for every j > i
  throw not_implemented("exercise 04: causal_mask");
}

// softmax(q k^T / sqrt(d_k) with -inf where masked) v
//   q (L, d_k), k (S, d_k), v (S, d_v), mask (L, S) -> output (L, d_v), weights (L, S)
AttentionResult masked_attention(const Matrix& q, const Matrix& k, const Matrix& v, const BoolMatrix& mask) {
  // TODO: 1. check the shapes (as in exercise 02), and that mask is (L, S); else throw std::invalid_argument
  // TODO: 2. scores (L, S) = q k^T / sqrt(d_k), then scores(i, j) = -INFINITY wherever mask(i, j)
  // TODO: 3. weights = softmax of each row — but a row where every key is masked must stay all zeros
  //          (softmax of a row of -inf is 0 / 0 = NaN)
  // TODO: 4. output (L, d_v) = weights v
  throw not_implemented("exercise 04: masked_attention");
}

}  // namespace course

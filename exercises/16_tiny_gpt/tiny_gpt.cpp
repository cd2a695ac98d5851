// Exercise 16 — a tiny GPT: the gradient of the cross-entropy, and picking the next token.
//
// Fill in the functions below, then run   ./course check 16
// The contract is in chapters/16_tiny_gpt/contract.hpp; stuck? ./course hint 16
#include "16_tiny_gpt/contract.hpp"

namespace course {

// dz_t = (softmax(z_t) − one_hot(y_t)) / T
Matrix cross_entropy_backward(const Matrix& logits, const std::vector<std::size_t>& targets) {
  // TODO: refuse targets that are not T long or not below V (std::invalid_argument)
  // TODO: the formula above, row by row, with a softmax that cannot overflow
  throw not_implemented("exercise 16: cross_entropy_backward");
}

// greedy: argmax; else top-k, softmax(z / temperature), one uniform draw through the cumulative sum
std::size_t sample_next(const Vector& logits, const SamplingOptions& options, Rng& rng) {
  // TODO: refuse what the contract refuses (std::invalid_argument)
  // TODO: greedy, then top-k, temperature and one draw: the contract says which id wins a tie
  throw not_implemented("exercise 16: sample_next");
}

}  // namespace course

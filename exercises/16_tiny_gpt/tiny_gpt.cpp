// Exercise 16 — a tiny GPT: the gradient of the cross-entropy, and picking the next token.
//
// Fill in the functions below, then run   ./course check 16
// The contract is in common/contracts/16_tiny_gpt.hpp; stuck? ./course hint 16
#include "contracts/16_tiny_gpt.hpp"

namespace course {

// dz_t = (softmax(z_t) − one_hot(y_t)) / T
Matrix cross_entropy_backward(const Matrix& logits, const std::vector<std::size_t>& targets) {
  // TODO: throw std::invalid_argument if targets is not T long or a target is not below V
  // TODO: for each row t: its maximum m; softmax(z_t) from exp(z_t − m) over their sum
  // TODO: divide by T, and subtract 1 / T at the target's column
  throw not_implemented("exercise 16: cross_entropy_backward");
}

// greedy: argmax; else top-k, softmax(z / temperature), one uniform draw through the cumulative sum
std::size_t sample_next(const Vector& logits, const SamplingOptions& options, Rng& rng) {
  // TODO: throw std::invalid_argument for no logits, temperature <= 0 (or not finite), top_k == 0
  // TODO: greedy: return the first index of the largest logit (no draw)
  // TODO: keep the k = min(top_k, V) LARGEST logits (on a tie, the smaller ids)
  // TODO: p_v = exp((z_v − max) / temperature) for kept v, 0 for the others; normalise
  // TODO: u = rng.uniform(), once; return the first kept v (in id order) whose cumulative p exceeds u
  throw not_implemented("exercise 16: sample_next");
}

}  // namespace course

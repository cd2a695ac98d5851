// Chapter 16 — a tiny GPT: the functions you write in exercises/16_tiny_gpt/tiny_gpt.cpp. The reference
// is chapters/16_tiny_gpt/solution/tiny_gpt.cpp; chapters/16_tiny_gpt/test.cpp checks both (./course check 16).
// Code the course gives for this chapter (not an exercise) is in chapters/16_tiny_gpt/given.hpp: the
// poems and their characters, the split, the n-gram baselines, the TinyGPT model (forward, backward, training on
// your cross_entropy_backward) and generation (on your sample_next).
#pragma once
#include "rng.hpp"
#include "tensor.hpp"

#include <cstddef>
#include <limits>
#include <vector>

namespace course {

// cross_entropy_backward — the gradient of torch.nn.functional.cross_entropy(logits, targets) (the
// mean over the T rows) with respect to the logits:
//   logits z (T, V), targets y (T) each in [0, V)   ->   dz (T, V)
//   L = (1/T) Σ_t −log softmax(z_t)[y_t]
//   dL/dz_t = (softmax(z_t) − one_hot(y_t)) / T
// softmax(z_t) is computed after subtracting the row's maximum, so no exp overflows. Chapter 14's
// softmax_cross_entropy gives the loss (and the same gradient); this is the backward on its own, the
// line every language model's training runs once per step on its largest matrix.
// Source: the derivative of log-sum-exp is softmax; karpathy/llm.c train_gpt2.c,
// crossentropy_softmax_backward, computes the same per row.
// Throws std::invalid_argument when targets is not T long or a target is not below V.
Matrix cross_entropy_backward(const Matrix& logits, const std::vector<std::size_t>& targets);

// How to pick the next token from a model's logits.
struct SamplingOptions {
  bool greedy = false;       // true: the largest logit (the first on a tie); no random draw
  double temperature = 1.0;  // > 0: softmax(z / temperature); below 1 sharper, above 1 flatter
  std::size_t top_k = std::numeric_limits<std::size_t>::max();  // >= 1: keep the k largest logits
};

// sample_next — one token drawn from the logits of the last position:
//   logits z (V), options, rng  ->  a token id in [0, V)
//   greedy:  argmax_v z_v (the smallest v on a tie); rng is not used
//   else:    keep the k = min(top_k, V) largest logits (on a tie at the k-th, the smaller ids), the
//            others get probability 0;
//            p_v = exp((z_v − m) / temperature) / Σ_kept exp((z_u − m) / temperature), m = max z
//            u = rng.uniform() (exactly one draw); return the first kept v (in id order) with
//            u < p_0 + ... + p_v, or the last kept v if rounding leaves u above the total
// Top-k keeps the LARGEST logits: a sign slip (sorting −z, or keeping the k smallest) samples from
// the least likely tokens and writes gibberish — the test catches it.
// Source: top-k sampling is Fan et al. 2018 ("Hierarchical Neural Story Generation"); Holtzman et al.
// 2020 ("The Curious Case of Neural Text Degeneration") compare it with temperature and introduce
// nucleus (top-p) sampling; sampling by the inverse of the cumulative distribution.
// Throws std::invalid_argument when logits is empty, temperature <= 0 (or not finite) or top_k is 0.
std::size_t sample_next(const Vector& logits, const SamplingOptions& options, Rng& rng);

}  // namespace course

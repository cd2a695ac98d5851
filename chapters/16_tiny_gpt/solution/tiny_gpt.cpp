// Chapter 16 — reference solution (the contract is in chapters/16_tiny_gpt/contract.hpp).
#include "16_tiny_gpt/contract.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace course {

// dz_t = (softmax(z_t) − one_hot(y_t)) / T
Matrix cross_entropy_backward(const Matrix& logits, const std::vector<std::size_t>& targets) {
  const std::size_t T = logits.shape(0), V = logits.shape(1);
  if (targets.size() != T) {
    throw std::invalid_argument(
        fmt::format("cross_entropy_backward: {} targets for {} rows of logits", targets.size(), T));
  }
  Matrix grad = Matrix::from_shape({T, V});
  for (std::size_t t = 0; t < T; ++t) {
    if (targets[t] >= V) {
      throw std::invalid_argument(
          fmt::format("cross_entropy_backward: target {} is {}, not below V = {}", t, targets[t], V));
    }
    // 1. the row's maximum, so that no exp overflows
    double m = logits(t, 0);
    for (std::size_t v = 1; v < V; ++v) m = std::max(m, logits(t, v));
    // 2. softmax(z_t)
    double sum = 0.0;
    for (std::size_t v = 0; v < V; ++v) {
      grad(t, v) = std::exp(logits(t, v) - m);
      sum += grad(t, v);
    }
    // 3. (softmax − one_hot) / T
    for (std::size_t v = 0; v < V; ++v) grad(t, v) = grad(t, v) / sum / static_cast<double>(T);
    grad(t, targets[t]) -= 1.0 / static_cast<double>(T);
  }
  return grad;
}

// greedy: argmax; else top-k, softmax(z / temperature), one uniform draw through the cumulative sum
std::size_t sample_next(const Vector& logits, const SamplingOptions& options, Rng& rng) {
  const std::size_t V = logits.size();
  if (V == 0) throw std::invalid_argument("sample_next: no logits");
  if (!(options.temperature > 0.0) || !std::isfinite(options.temperature)) {
    throw std::invalid_argument(
        fmt::format("sample_next: the temperature must be above 0, not {}", options.temperature));
  }
  if (options.top_k == 0) throw std::invalid_argument("sample_next: top_k must be at least 1");
  // 1. greedy: the first largest logit
  if (options.greedy) {
    std::size_t best = 0;
    for (std::size_t v = 1; v < V; ++v)
      if (logits(v) > logits(best)) best = v;
    return best;
  }
  // 2. top-k: the ids ordered by logit, largest first (smaller id first on a tie); keep k of them
  std::vector<std::size_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return logits(a) > logits(b); });
  const std::size_t k = std::min(options.top_k, V);
  std::vector<bool> kept(V, false);
  for (std::size_t i = 0; i < k; ++i) kept[order[i]] = true;
  // 3. softmax(z / temperature) over the kept ids (the maximum, order[0], is always kept)
  const double m = logits(order[0]);
  std::vector<double> p(V, 0.0);
  double sum = 0.0;
  for (std::size_t v = 0; v < V; ++v) {
    if (kept[v]) {
      p[v] = std::exp((logits(v) - m) / options.temperature);
      sum += p[v];
    }
  }
  // 4. one draw, walked through the cumulative probabilities in id order
  const double u = rng.uniform();
  double cumulative = 0.0;
  std::size_t last_kept = order[0];
  for (std::size_t v = 0; v < V; ++v) {
    if (!kept[v]) continue;
    cumulative += p[v] / sum;
    last_kept = v;
    if (u < cumulative) return v;
  }
  return last_kept;
}

}  // namespace course

// Chapter 14 — given code (declared in chapters/14_training/given.hpp): the losses with their
// gradients, the embedding's backward, and the helpers of a training loop.
#include "14_training/given.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace course {

namespace {

// The shapes softmax_cross_entropy and cross_entropy_loss accept.
void check_targets(const char* name, const Matrix& logits, const std::vector<std::size_t>& targets) {
  const std::size_t T = logits.shape(0), V = logits.shape(1);
  if (targets.size() != T) {
    throw std::invalid_argument(
        fmt::format("{}: logits are {} but there are {} targets", name, shape_of(logits), targets.size()));
  }
  for (std::size_t t = 0; t < T; ++t) {
    if (targets[t] >= V)
      throw std::invalid_argument(
          fmt::format("{}: target {} is {}, not below V = {}", name, t, targets[t], V));
  }
}

// logsumexp(z_t) with the row's maximum taken out: no exp overflows
double row_log_sum_exp(const Matrix& logits, std::size_t t) {
  const std::size_t V = logits.shape(1);
  double max = logits(t, 0);
  for (std::size_t v = 1; v < V; ++v) max = std::max(max, logits(t, v));
  double sum = 0.0;
  for (std::size_t v = 0; v < V; ++v) sum += std::exp(logits(t, v) - max);
  return max + std::log(sum);
}

}  // namespace

// L = (1/T) Σ_t (logsumexp(z_t) − z_t[y_t]);  dL/dz_t = (softmax(z_t) − one_hot(y_t)) / T
LossAndGradient softmax_cross_entropy(const Matrix& logits, const std::vector<std::size_t>& targets) {
  check_targets("softmax_cross_entropy", logits, targets);
  const std::size_t T = logits.shape(0), V = logits.shape(1);
  LossAndGradient r;
  r.grad = Matrix::from_shape({T, V});
  double total = 0.0;
  for (std::size_t t = 0; t < T; ++t) {
    // 1. the row's loss
    const double log_sum_exp = row_log_sum_exp(logits, t);
    total += log_sum_exp - logits(t, targets[t]);
    // 2. the gradient: softmax − one_hot, divided by T for the mean
    for (std::size_t v = 0; v < V; ++v)
      r.grad(t, v) = std::exp(logits(t, v) - log_sum_exp) / static_cast<double>(T);
    r.grad(t, targets[t]) -= 1.0 / static_cast<double>(T);
  }
  r.loss = total / static_cast<double>(T);
  return r;
}

// L = (1/T) Σ_t (logsumexp(z_t) − z_t[y_t]), the same sum in the same order as softmax_cross_entropy
double cross_entropy_loss(const Matrix& logits, const std::vector<std::size_t>& targets) {
  check_targets("cross_entropy_loss", logits, targets);
  const std::size_t T = logits.shape(0);
  double total = 0.0;
  for (std::size_t t = 0; t < T; ++t) total += row_log_sum_exp(logits, t) - logits(t, targets[t]);
  return total / static_cast<double>(T);
}

// L = (1/N) Σ (o − y)²;  dL/do = 2 (o − y) / N
LossAndGradient mse_loss(const Matrix& output, const Matrix& target) {
  if (output.shape() != target.shape()) {
    throw std::invalid_argument(
        fmt::format("mse_loss: output is {} but target is {}", shape_of(output), shape_of(target)));
  }
  const double N = static_cast<double>(output.size());
  LossAndGradient r;
  r.grad = Matrix::from_shape(output.shape());
  double total = 0.0;
  for (std::size_t i = 0; i < output.size(); ++i) {
    const double diff = output.data()[i] - target.data()[i];
    total += diff * diff;
    r.grad.data()[i] = 2.0 * diff / N;
  }
  r.loss = total / N;
  return r;
}

// dtable[ids[i]] += grad_output[i], in order
Matrix embedding_backward(const std::vector<std::size_t>& ids, const Matrix& grad_output, std::size_t vocab) {
  const std::size_t n = grad_output.shape(0), E = grad_output.shape(1);
  if (ids.size() != n) {
    throw std::invalid_argument(
        fmt::format("embedding_backward: {} ids but grad_output is {}", ids.size(), shape_of(grad_output)));
  }
  Matrix d = xt::zeros<double>({vocab, E});
  for (std::size_t i = 0; i < n; ++i) {
    if (ids[i] >= vocab) {
      throw std::invalid_argument(
          fmt::format("embedding_backward: id {} is {}, not below {}", i, ids[i], vocab));
    }
    for (std::size_t j = 0; j < E; ++j) d(ids[i], j) += grad_output(i, j);
  }
  return d;
}

// the first index of each row's maximum (a loop: xt::argmax on 1-D is trap 2)
std::vector<std::size_t> argmax_rows(const Matrix& x) {
  std::vector<std::size_t> best(x.shape(0), 0);
  for (std::size_t i = 0; i < x.shape(0); ++i)
    for (std::size_t j = 1; j < x.shape(1); ++j)
      if (x(i, j) > x(i, best[i])) best[i] = j;
  return best;
}

Accuracy accuracy(const std::vector<std::size_t>& predictions, const std::vector<std::size_t>& targets,
                  std::size_t seq_len) {
  if (predictions.size() != targets.size() || seq_len == 0 || targets.size() % seq_len != 0) {
    throw std::invalid_argument(fmt::format("accuracy: {} predictions, {} targets, sequences of {}",
                                            predictions.size(), targets.size(), seq_len));
  }
  Accuracy a;
  for (std::size_t start = 0; start < targets.size(); start += seq_len) {
    bool all_right = true;
    for (std::size_t i = start; i < start + seq_len; ++i) {
      const bool right = predictions[i] == targets[i];
      a.tokens_right += right ? 1 : 0;
      all_right = all_right && right;
    }
    a.tokens += seq_len;
    a.sequences += 1;
    a.sequences_right += all_right ? 1 : 0;
  }
  return a;
}

}  // namespace course

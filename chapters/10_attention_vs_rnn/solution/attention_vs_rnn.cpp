// Chapter 10 — reference solutions (the contract is in chapters/10_attention_vs_rnn/contract.hpp).
#include "10_attention_vs_rnn/contract.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace course {

// h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), one step after the other
RnnResult rnn_forward(const Matrix& input, const RnnWeights& w, const Matrix& h0) {
  const std::size_t L = input.shape(0), H_in = input.shape(1), H = w.weight_ih_l0.shape(0);
  if (w.weight_ih_l0.shape(1) != H_in || w.weight_hh_l0.shape(0) != H || w.weight_hh_l0.shape(1) != H ||
      w.bias_ih_l0.size() != H || w.bias_hh_l0.size() != H || h0.shape(0) != 1 || h0.shape(1) != H) {
    throw std::invalid_argument(fmt::format(
        "rnn_forward: input {}, weight_ih_l0 {}, weight_hh_l0 {}, biases ({},) ({},), h0 {} do not fit",
        shape_of(input), shape_of(w.weight_ih_l0), shape_of(w.weight_hh_l0), w.bias_ih_l0.size(),
        w.bias_hh_l0.size(), shape_of(h0)));
  }
  Matrix output = Matrix::from_shape({L, H});
  std::vector<double> h(h0.begin(), h0.end()), next(H);
  for (std::size_t t = 0; t < L; ++t) {
    for (std::size_t i = 0; i < H; ++i) {
      double a = w.bias_ih_l0(i) + w.bias_hh_l0(i);
      for (std::size_t j = 0; j < H_in; ++j) a += w.weight_ih_l0(i, j) * input(t, j);
      for (std::size_t j = 0; j < H; ++j) a += w.weight_hh_l0(i, j) * h[j];
      next[i] = std::tanh(a);
    }
    h.swap(next);
    for (std::size_t i = 0; i < H; ++i) output(t, i) = h[i];
  }
  Matrix h_n = Matrix::from_shape({1, H});
  std::copy(h.begin(), h.end(), h_n.begin());
  return {output, h_n};
}

// s[t] = |layer(x + eps U)[t] - layer(x - eps U)[t]| / (2 eps), U = row 0 set to (1, ..., 1) / sqrt(d)
Vector sensitivity(const std::function<Matrix(const Matrix&)>& layer, const Matrix& x, double eps) {
  if (!(eps > 0.0)) throw std::invalid_argument("sensitivity: eps must be positive");
  const std::size_t L = x.shape(0), d = x.shape(1);
  // 1. nudge every feature of token 0 up and down by eps / sqrt(d)
  Matrix plus = x, minus = x;
  for (std::size_t j = 0; j < d; ++j) {
    plus(0, j) += eps / std::sqrt(static_cast<double>(d));
    minus(0, j) -= eps / std::sqrt(static_cast<double>(d));
  }
  const Matrix up = layer(plus), down = layer(minus);
  if (up.shape(0) != L || down.shape(0) != L) {
    throw std::invalid_argument("sensitivity: the layer must keep one output row per input row");
  }
  // 2. how far each output row moved, per unit of nudge
  Vector s = Vector::from_shape({L});
  for (std::size_t t = 0; t < L; ++t) {
    double sq = 0.0;
    for (std::size_t j = 0; j < up.shape(1); ++j) sq += (up(t, j) - down(t, j)) * (up(t, j) - down(t, j));
    s(t) = std::sqrt(sq) / (2.0 * eps);
  }
  return s;
}

}  // namespace course

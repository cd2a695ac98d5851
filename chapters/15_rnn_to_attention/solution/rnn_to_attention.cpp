// Chapter 15 — reference solution (the contract is in chapters/15_rnn_to_attention/contract.hpp).
#include "01_tensors/contract.hpp"  // softmax_rows
#include "15_rnn_to_attention/contract.hpp"
#include "linalg.hpp"  // product, product_nt, product_tn

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace course {

// e[i][j] = w_vᵀ tanh(W_q q_i + W_k k_j),  weights = softmax_rows(e),  output = weights values
AdditiveAttentionResult additive_attention(const Matrix& queries, const Matrix& keys, const Matrix& values,
                                           const AdditiveWeights& w) {
  const std::size_t L = queries.shape(0), S = keys.shape(0), A = w.W_q.shape(0);
  if (w.W_q.shape(1) != queries.shape(1) || w.W_k.shape(0) != A || w.W_k.shape(1) != keys.shape(1) ||
      w.w_v.size() != A || values.shape(0) != S) {
    throw std::invalid_argument(fmt::format(
        "additive_attention: queries {}, keys {}, values {}, W_q {}, W_k {}, w_v ({},) do not fit",
        shape_of(queries), shape_of(keys), shape_of(values), shape_of(w.W_q), shape_of(w.W_k), w.w_v.size()));
  }
  // 1. project every query and every key once: (L, A) and (S, A)
  const Matrix q_proj = product_nt(queries, w.W_q);
  const Matrix k_proj = product_nt(keys, w.W_k);
  // 2. one score per pair: A tanh's and A multiply-adds
  Matrix scores = Matrix::from_shape({L, S});
  for (std::size_t i = 0; i < L; ++i)
    for (std::size_t j = 0; j < S; ++j) {
      double e = 0.0;
      for (std::size_t a = 0; a < A; ++a) e += w.w_v(a) * std::tanh(q_proj(i, a) + k_proj(j, a));
      scores(i, j) = e;
    }
  // 3. softmax over the keys, then the weighted average of the values
  Matrix weights = softmax_rows(scores);
  Matrix output = product(weights, values);
  return {output, weights};
}

// BPTT: g = dL/dh_t carried backwards; da_t = g ⊙ (1 − h_t²); g ← da_t W_hh; then the products.
RnnGradients rnn_backward(const Matrix& input, const RnnWeights& w, const Matrix& h0, const Matrix& output,
                          const Matrix& grad_output, const Matrix& grad_h_n) {
  const std::size_t L = input.shape(0), H_in = input.shape(1), H = w.weight_ih_l0.shape(0);
  if (w.weight_ih_l0.shape(1) != H_in || w.weight_hh_l0.shape(0) != H || w.weight_hh_l0.shape(1) != H ||
      w.bias_ih_l0.size() != H || w.bias_hh_l0.size() != H || h0.shape(0) != 1 || h0.shape(1) != H ||
      output.shape(0) != L || output.shape(1) != H || grad_output.shape(0) != L ||
      grad_output.shape(1) != H || grad_h_n.shape(0) != 1 || grad_h_n.shape(1) != H) {
    throw std::invalid_argument(fmt::format(
        "rnn_backward: input {}, weight_ih_l0 {}, weight_hh_l0 {}, biases ({},) ({},), h0 {}, output {}, "
        "grad_output {}, grad_h_n {} do not fit",
        shape_of(input), shape_of(w.weight_ih_l0), shape_of(w.weight_hh_l0), w.bias_ih_l0.size(),
        w.bias_hh_l0.size(), shape_of(h0), shape_of(output), shape_of(grad_output), shape_of(grad_h_n)));
  }
  // 1. backwards in time: the gradient of each pre-activation a_t, one row of dA per step
  Matrix grad_a = Matrix::from_shape({L, H});
  std::vector<double> g(grad_h_n.begin(), grad_h_n.end());  // dL/dh_t, starting at t = L
  for (std::size_t t = L; t-- > 0;) {
    for (std::size_t i = 0; i < H; ++i) {
      g[i] += grad_output(t, i);
      grad_a(t, i) = g[i] * (1.0 - output(t, i) * output(t, i));
    }
    // g = da_t W_hh: what h_{t-1} receives through the recurrence
    for (std::size_t j = 0; j < H; ++j) {
      double s = 0.0;
      for (std::size_t i = 0; i < H; ++i) s += grad_a(t, i) * w.weight_hh_l0(i, j);
      g[j] = s;
    }
  }
  // 2. the states each step read: h_0, h_1, ..., h_{L-1}
  Matrix previous = Matrix::from_shape({L, H});
  for (std::size_t i = 0; i < H; ++i) previous(0, i) = h0(0, i);
  for (std::size_t t = 1; t < L; ++t)
    for (std::size_t i = 0; i < H; ++i) previous(t, i) = output(t - 1, i);
  // 3. every step used the same weights: their gradients add up over t
  RnnGradients r;
  r.input = product(grad_a, w.weight_ih_l0);
  r.h0 = Matrix::from_shape({1, H});
  for (std::size_t i = 0; i < H; ++i) r.h0(0, i) = g[i];
  r.weight_ih_l0 = product_tn(grad_a, input);
  r.weight_hh_l0 = product_tn(grad_a, previous);
  r.bias_ih_l0 = Vector::from_shape({H});
  for (std::size_t i = 0; i < H; ++i) {
    double s = 0.0;
    for (std::size_t t = 0; t < L; ++t) s += grad_a(t, i);
    r.bias_ih_l0(i) = s;
  }
  r.bias_hh_l0 = r.bias_ih_l0;
  return r;
}

}  // namespace course

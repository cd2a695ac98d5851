// Chapter 15 — given code (declared in chapters/15_rnn_to_attention/given.hpp): additive attention's
// backward and Nadaraya–Watson pooling.
#include "15_rnn_to_attention/given.hpp"
#include "linalg.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace course {

// dV = Pᵀ dO; dE = softmax_backward(P, dO Vᵀ); dz_ij = dE_ij w_v ⊙ (1 − t_ij²); then the projections
AdditiveGradients additive_attention_backward(const Matrix& queries, const Matrix& keys, const Matrix& values,
                                              const AdditiveWeights& w, const Matrix& weights,
                                              const Matrix& grad_output) {
  const std::size_t L = queries.shape(0), S = keys.shape(0), A = w.W_q.shape(0);
  if (w.W_q.shape(1) != queries.shape(1) || w.W_k.shape(0) != A || w.W_k.shape(1) != keys.shape(1) ||
      w.w_v.size() != A || values.shape(0) != S || weights.shape(0) != L || weights.shape(1) != S ||
      grad_output.shape(0) != L || grad_output.shape(1) != values.shape(1)) {
    throw std::invalid_argument(fmt::format(
        "additive_attention_backward: queries {}, keys {}, values {}, W_q {}, W_k {}, w_v ({},), weights {}, "
        "grad_output {} do not fit",
        shape_of(queries), shape_of(keys), shape_of(values), shape_of(w.W_q), shape_of(w.W_k), w.w_v.size(),
        shape_of(weights), shape_of(grad_output)));
  }
  AdditiveGradients g;
  // 1. output = P values: the values' gradient, and the weights'
  g.values = product_tn(weights, grad_output);
  const Matrix grad_scores = softmax_backward(weights, product_nt(grad_output, values));
  // 2. e_ij = w_vᵀ tanh(z_ij), z_ij = q'_i + k'_j: back through w_v and the tanh, pair by pair
  const Matrix q_proj = product_nt(queries, w.W_q), k_proj = product_nt(keys, w.W_k);
  Matrix grad_q_proj = xt::zeros<double>({L, A}), grad_k_proj = xt::zeros<double>({S, A});
  g.w_v = xt::zeros<double>({A});
  for (std::size_t i = 0; i < L; ++i)
    for (std::size_t j = 0; j < S; ++j) {
      const double de = grad_scores(i, j);
      for (std::size_t a = 0; a < A; ++a) {
        const double t = std::tanh(q_proj(i, a) + k_proj(j, a));
        g.w_v(a) += de * t;
        const double dz = de * w.w_v(a) * (1.0 - t * t);
        grad_q_proj(i, a) += dz;
        grad_k_proj(j, a) += dz;
      }
    }
  // 3. q' = queries W_qᵀ and k' = keys W_kᵀ: chapter 13's linear backward without a bias
  g.queries = product(grad_q_proj, w.W_q);
  g.W_q = product_tn(grad_q_proj, queries);
  g.keys = product(grad_k_proj, w.W_k);
  g.W_k = product_tn(grad_k_proj, keys);
  return g;
}

// α(x, x_j) = softmax_j(−(x − x_j)² / 2h²),  f(x) = Σ_j α(x, x_j) y_j
KernelRegression nadaraya_watson(const Vector& x_query, const Vector& x_train, const Vector& y_train,
                                 double bandwidth) {
  if (x_train.size() != y_train.size() || x_train.size() == 0)
    throw std::invalid_argument(fmt::format("nadaraya_watson: x_train ({},) and y_train ({},) do not fit",
                                            x_train.size(), y_train.size()));
  if (!(bandwidth > 0.0) || !std::isfinite(bandwidth))
    throw std::invalid_argument("nadaraya_watson: the bandwidth must be positive");
  const std::size_t n = x_query.size(), m = x_train.size();
  Matrix scores = Matrix::from_shape({n, m});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      const double d = x_query(i) - x_train(j);
      scores(i, j) = -d * d / (2.0 * bandwidth * bandwidth);
    }
  KernelRegression r;
  r.weights = softmax_rows(scores);
  r.estimate = Vector::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) {
    double f = 0.0;
    for (std::size_t j = 0; j < m; ++j) f += r.weights(i, j) * y_train(j);
    r.estimate(i) = f;
  }
  return r;
}

}  // namespace course

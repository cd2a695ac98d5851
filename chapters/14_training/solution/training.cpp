// Chapter 14 — reference solutions (the contract is in chapters/14_training/contract.hpp).
#include "14_training/contract.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace course {

// dx = (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)) · rstd with ĝ = g ⊙ γ;  dγ = Σ_rows g ⊙ x̂;  dβ = Σ_rows g
LayerNormGradients layer_norm_backward(const Matrix& x, const Vector& mean, const Vector& rstd,
                                       const Vector& gamma, const Matrix& grad_y) {
  const std::size_t n = x.shape(0), E = x.shape(1);
  if (mean.size() != n || rstd.size() != n || gamma.size() != E || grad_y.shape() != x.shape()) {
    throw std::invalid_argument(
        fmt::format("layer_norm_backward: x is {}, mean has {} entries, rstd {}, gamma {}, grad_y is {}",
                    shape_of(x), mean.size(), rstd.size(), gamma.size(), shape_of(grad_y)));
  }
  LayerNormGradients g;
  g.x = Matrix::from_shape({n, E});
  g.weight = xt::zeros<double>({E});
  g.bias = xt::zeros<double>({E});
  std::vector<double> x_hat(E), g_hat(E);
  for (std::size_t i = 0; i < n; ++i) {
    // 1. β and γ collect the row's gradient; x̂ from the forward's μ and rstd; ĝ = g ⊙ γ and its two means
    double mean_g_hat = 0.0, mean_g_hat_x_hat = 0.0;
    for (std::size_t j = 0; j < E; ++j) {
      x_hat[j] = (x(i, j) - mean(i)) * rstd(i);
      g.bias(j) += grad_y(i, j);
      g.weight(j) += grad_y(i, j) * x_hat[j];
      g_hat[j] = grad_y(i, j) * gamma(j);
      mean_g_hat += g_hat[j];
      mean_g_hat_x_hat += g_hat[j] * x_hat[j];
    }
    mean_g_hat /= static_cast<double>(E);
    mean_g_hat_x_hat /= static_cast<double>(E);
    // 2. dx
    for (std::size_t j = 0; j < E; ++j)
      g.x(i, j) = (g_hat[j] - mean_g_hat - x_hat[j] * mean_g_hat_x_hat) * rstd(i);
  }
  return g;
}

// PyTorch 1.13's _single_tensor_adamw, entry by entry
void adamw_step(double* param, const double* grad, std::size_t n, AdamWMoments& moments, std::size_t t,
                const AdamWOptions& o) {
  if (t == 0) throw std::invalid_argument("adamw_step: the step number t starts at 1");
  if (moments.m.size() != n || moments.v.size() != n) {
    throw std::invalid_argument(fmt::format("adamw_step: the parameter has {} entries but m has {} and v {}",
                                            n, moments.m.size(), moments.v.size()));
  }
  // the step's constants, as PyTorch computes them (Python floats)
  const double step = static_cast<double>(t);
  const double bias_correction1 = 1.0 - std::pow(o.beta1, step);
  const double bias_correction2 = 1.0 - std::pow(o.beta2, step);
  const double step_size = o.lr / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);
  for (std::size_t i = 0; i < n; ++i) {
    // 1. decoupled weight decay, on the old parameter
    param[i] *= 1.0 - o.lr * o.weight_decay;
    // 2. the moments
    moments.m[i] = moments.m[i] * o.beta1 + (1.0 - o.beta1) * grad[i];
    moments.v[i] = moments.v[i] * o.beta2 + (1.0 - o.beta2) * grad[i] * grad[i];
    // 3. the bias-corrected step
    const double denom = std::sqrt(moments.v[i]) / bias_correction2_sqrt + o.eps;
    param[i] += -step_size * moments.m[i] / denom;
  }
}

}  // namespace course

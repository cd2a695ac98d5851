// Exercise 14 — training: the backward of layer norm, and one step of AdamW.
//
// Fill in the functions below, then run   ./course check 14
// The contract is in chapters/14_training/contract.hpp; stuck? ./course hint 14
#include "14_training/contract.hpp"

#include <cmath>

namespace course {

// dx, dγ, dβ for y = layer_norm(x, γ, β, eps) and g = dL/dy, row by row, on the forward's μ and rstd
LayerNormGradients layer_norm_backward(const Matrix& x, const Vector& mean, const Vector& rstd,
                                       const Vector& gamma, const Matrix& grad_y) {
  // TODO: refuse a mean, rstd, gamma or grad_y that does not fit x (std::invalid_argument)
  // TODO: per row, x̂ from the forward's μ and rstd; dγ and dβ are sums over the rows; for dx,
  //       remember that moving one x_j moves the row's mean and σ too
  throw not_implemented("exercise 14: layer_norm_backward");
}

// PyTorch 1.13's _single_tensor_adamw, entry by entry
void adamw_step(double* param, const double* grad, std::size_t n, AdamWMoments& moments, std::size_t t,
                const AdamWOptions& options) {
  // TODO: refuse t = 0 and moments that are not n long (std::invalid_argument)
  // TODO: the contract's lines, in PyTorch's order (the test compares with torch.optim.AdamW to 1e-14)
  throw not_implemented("exercise 14: adamw_step");
}

}  // namespace course

// Exercise 14 — training: the backward of layer norm, and one step of AdamW.
//
// Fill in the functions below, then run   ./course check 14
// The contract is in common/contracts/14_training.hpp; stuck? ./course hint 14
#include "contracts/14_training.hpp"

#include <cmath>

namespace course {

// dx = (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)) / σ with ĝ = g ⊙ γ;  dγ = Σ_rows g ⊙ x̂;  dβ = Σ_rows g
LayerNormGradients layer_norm_backward(const Matrix& x, const Vector& gamma, double eps,
                                       const Matrix& grad_y) {
  // TODO: 1. throw std::invalid_argument unless gamma has x.shape(1) entries and grad_y has x's shape
  // TODO: 2. dx (n, E) uninitialised, dγ and dβ (E) zeros
  // TODO: 3. for each row i: μ, σ = sqrt(var + eps) and x̂ = (x − μ) / σ, as layer_norm computes them
  // TODO: 4.   dβ += g,  dγ += g ⊙ x̂,  ĝ = g ⊙ γ,  and the row means mean(ĝ), mean(ĝ ⊙ x̂)
  // TODO: 5.   dx = (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)) / σ
  throw not_implemented("exercise 14: layer_norm_backward");
}

// PyTorch 1.13's _single_tensor_adamw, entry by entry
void adamw_step(double* param, const double* grad, std::size_t n, AdamWMoments& moments, std::size_t t,
                const AdamWOptions& options) {
  // TODO: 1. throw std::invalid_argument if t is 0 or moments.m / moments.v are not n long
  // TODO: 2. the step's constants: 1 − β₁ᵗ, 1 − β₂ᵗ (std::pow), step_size = lr / (1 − β₁ᵗ), √(1 − β₂ᵗ)
  // TODO: 3. for each entry i:  p ← p · (1 − lr · λ)
  // TODO: 4.   m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
  // TODO: 5.   p ← p − step_size · m / (√v / √(1 − β₂ᵗ) + ε)
  throw not_implemented("exercise 14: adamw_step");
}

}  // namespace course

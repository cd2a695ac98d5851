// Chapter 14 — training: the functions you write in exercises/14_training/training.cpp. The reference
// is chapters/14_training/solution/training.cpp; chapters/14_training/test.cpp checks both (./course check 14).
// Code the course gives for this chapter (not an exercise) is in chapters/14_training/given.hpp: the
// encoder layer's forward and backward built on your layer_norm_backward, the losses, the AdamW
// optimizer built on your adamw_step, and the tiny encoder the program trains.
#pragma once
#include "11_transformer_block/contract.hpp"
#include "13_backpropagation/contract.hpp"

#include <cstddef>
#include <vector>

namespace course {

// The gradients of torch.nn.LayerNorm's input, weight (γ) and bias (β).
struct LayerNormGradients {
  Matrix x;       // (n, E) dL/dx
  Vector weight;  // (E)    dL/dγ
  Vector bias;    // (E)    dL/dβ
};

// layer_norm_backward — the backward of chapter 11's layer_norm, row by row (Ba, Kiros & Hinton 2016):
//   x (n, E), mean μ (n), rstd (n), gamma γ (E), grad_y g (n, E) = dL/dy  ->  dx (n, E), dγ (E), dβ (E)
// The forward, for one row i (layer_norm_forward in chapters/14_training/given.hpp, which keeps μ and
// rstd for this function):
//   μ = mean(x),  rstd = 1 / sqrt(mean((x − μ)²) + eps),  x̂ = (x − μ) · rstd,  y = γ ⊙ x̂ + β
// Backward, for one row (every mean over the row's E entries):
//   dβ += g                                   β was added to every row
//   dγ += g ⊙ x̂                               γ multiplied every row's x̂
//   ĝ   = g ⊙ γ                               dL/dx̂
//   dx  = (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)) · rstd
// The two means are what μ and rstd depend on: moving one entry of x moves the row's mean and spread,
// and so every x̂ of the row. β itself is not needed, nor eps (it is inside rstd); x̂ comes from x and
// the forward's μ and rstd, as in karpathy/llm.c's train_gpt2.c, whose layernorm_forward saves mean
// and rstd for its layernorm_backward. Source: the chain rule through the three steps.
// Throws std::invalid_argument when mean or rstd is not n long, gamma is not E long or grad_y is not
// x's shape.
LayerNormGradients layer_norm_backward(const Matrix& x, const Vector& mean, const Vector& rstd,
                                       const Vector& gamma, const Matrix& grad_y);

// torch.optim.AdamW's hyperparameters, with its defaults (Loshchilov & Hutter 2019).
struct AdamWOptions {
  double lr = 1e-3;            // learning rate α
  double beta1 = 0.9;          // β₁: decay of the first moment m
  double beta2 = 0.999;        // β₂: decay of the second moment v
  double eps = 1e-8;           // ε, added to √v̂
  double weight_decay = 0.01;  // λ: decoupled weight decay, lr · λ per step (PyTorch's convention)
};

// What AdamW keeps for one parameter tensor between steps: its moments, one entry per entry of the
// parameter (row-major), zero before the first step.
struct AdamWMoments {
  std::vector<double> m;  // first moment: running mean of the gradient
  std::vector<double> v;  // second moment: running mean of the squared gradient
};

// adamw_step — step t of torch.optim.AdamW on one parameter tensor of n entries, in the order of
// PyTorch 1.13's _single_tensor_adamw (torch/optim/adamw.py), entry by entry:
//   param (n), grad (n) = dL/dparam, moments.m (n), moments.v (n), t = 1 for the first step
//   p ← p · (1 − lr · λ)                      decoupled weight decay, first, on the old p
//   m ← β₁ m + (1 − β₁) g                     moments of the gradient
//   v ← β₂ v + (1 − β₂) g²
//   m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)    bias correction: m and v start at 0
//   p ← p − lr · m̂ / (√v̂ + ε)
// (PyTorch computes the last line as p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε): the same
// numbers, in that order.) At t = 1, m̂ = g and v̂ = g², so each entry moves by about lr against the
// sign of its gradient, whatever the gradient's size.
// Source: Kingma & Ba 2015, Algorithm 1; Loshchilov & Hutter 2019, Algorithm 2 (the decay λ p is
// taken out of the gradient, so it is not divided by √v̂). Their decay per step is η_t · λ, with η_t
// the schedule's multiplier, not the learning rate; PyTorch's (and this function's) is lr · λ, so
// weight_decay 0.01 at lr 1e-3 is the paper's λ = 1e-5. The arrays are flat (any tensor's data(),
// e.g. a Matrix's row-major entries); chapters/14_training/given.hpp has the overload that takes
// tensors, and the optimizer that keeps t and one AdamWMoments per parameter.
// Throws std::invalid_argument when t is 0 or the moments are not n long.
void adamw_step(double* param, const double* grad, std::size_t n, AdamWMoments& moments, std::size_t t,
                const AdamWOptions& options);

}  // namespace course

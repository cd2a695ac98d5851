// Chapter 18 — Pretrain, then fine-tune: the functions you write in exercises/18_pretrain_finetune/lora.cpp.
// The reference is chapters/18_pretrain_finetune/solution/lora.cpp; chapters/18_pretrain_finetune/test.cpp
// checks both (./course check 18). Code the course gives for this chapter (not an exercise) is in
// chapters/18_pretrain_finetune/given.hpp: the pretraining corpus, cleaned, and its leakage removed.
//
// The exercise is the LoRA layer (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language
// Models"): a frozen weight W is adapted by a product of two thin matrices, B A, of rank r, so a task
// costs r (in + out) numbers to train and store instead of in · out:
//   s = α / r;   W_eff = W + s · B · A          W (out, in), A (r, in), B (out, r), r >= 1
// B starts at zero, so the adapted layer starts as the pretrained one; α fixes the scale of the update
// as r changes (section 4.1 of the paper). Only A and B are trained; W is never changed.
#pragma once
#include "tensor.hpp"

namespace course {

// lora_forward — the adapted linear layer (no bias), without ever forming the (out, in) product B A:
//   x (T, in), W (out, in), A (r, in), B (out, r), α > 0   ->   y (T, out)
//   y = x Wᵀ + s · (x Aᵀ) Bᵀ,   s = α / r
// It equals x W_effᵀ with W_eff = merge_lora(W, A, B, α), up to rounding; x Aᵀ is (T, r), so the
// adapter costs T r (in + out) multiply-adds beside the base layer's T · in · out.
// Throws std::invalid_argument when r = A.shape(0) is 0, α is not above 0 (or not finite), or the shapes
// do not fit; the message names the two shapes that disagree, e.g.
//   "lora_forward: A (r, in) is (2, 5) but W (out, in) is (3, 4)".
Matrix lora_forward(const Matrix& x, const Matrix& W, const Matrix& A, const Matrix& B, double alpha);

// The gradients of the two adapters.
struct LoraGradients {
  Matrix dA;  // (r, in)   dL/dA
  Matrix dB;  // (out, r)  dL/dB
};

// lora_backward — the adapters' gradients from G = dL/dW_eff, the gradient a linear layer's backward
// gives its weight (for y = x W_effᵀ, G = dyᵀ x, chapter 13). W_eff = W + s B A is linear in A and in B:
//   G (out, in), A (r, in), B (out, r), α   ->   dA = s · Bᵀ G (r, in),   dB = s · G Aᵀ (out, r)
// (each entry W_eff[i][j] = W[i][j] + s Σ_k B[i][k] A[k][j], so dL/dA[k][j] = s Σ_i B[i][k] G[i][j] and
// dL/dB[i][k] = s Σ_j G[i][j] A[k][j]). W is frozen: it gets no gradient. With B = 0 (LoRA's start),
// dA is 0 and only B moves in the first step.
// Throws std::invalid_argument as lora_forward does (r = 0, α, shapes that do not fit, naming both).
LoraGradients lora_backward(const Matrix& G, const Matrix& A, const Matrix& B, double alpha);

// merge_lora — the adapted weight, for storing one matrix per task or for checking lora_forward:
//   W (out, in), A (r, in), B (out, r), α   ->   W_eff = W + (α / r) · B A   (out, in)
// Throws std::invalid_argument as lora_forward does.
Matrix merge_lora(const Matrix& W, const Matrix& A, const Matrix& B, double alpha);

}  // namespace course

// Chapter 13 — backpropagation: the functions you write in exercises/13_backpropagation/backpropagation.cpp.
// The reference is chapters/13_backpropagation/solution/backpropagation.cpp; chapters/13_backpropagation/test.cpp
// checks both (./course check 13). Code the course gives for this chapter (not an exercise) is in
// chapters/13_backpropagation/given.hpp: linear_backward, the multi-head backward built on your
// attention_backward, and the gradient check (common/gradcheck.hpp) that every later chapter reuses.
//
// Every backward function here takes the gradient of a loss with respect to a forward function's
// OUTPUT and returns the gradients with respect to its INPUTS (the chain rule, one step). Gradients
// have the shape of what they are the gradient of. With PyTorch: output.backward(grad_output) leaves
// exactly these in each input's .grad.
#pragma once
#include "tensor.hpp"

namespace course {

// softmax_backward — the backward of chapter 01's softmax_rows, row by row.
//   p (n, m) = softmax_rows(s), grad_p (n, m) = dL/dp   ->   grad_s (n, m) = dL/ds
//   grad_s[i][j] = p[i][j] * (grad_p[i][j] - sum over j' of grad_p[i][j'] * p[i][j'])
// i.e. each row is p ⊙ (g − ⟨g, p⟩): the product of the row's Jacobian diag(p) − p pᵀ with g, without
// ever building that (m, m) matrix (2m multiply-adds per row instead of m²). It needs only the
// softmax's output p, not its input s. Where p[i][j] = 0 (a masked key, or a fully masked row of
// zeros, chapter 04) grad_s[i][j] is exactly 0.
// Throws std::invalid_argument when p and grad_p differ in shape.
Matrix softmax_backward(const Matrix& p, const Matrix& grad_p);

// The gradients of attention's three inputs; each has the shape of its input.
struct AttentionGradients {
  Matrix q;  // (L, d_k) = dL/dq
  Matrix k;  // (S, d_k) = dL/dk
  Matrix v;  // (S, d_v) = dL/dv
};

// attention_backward — the backward of chapter 04's masked_attention (and chapter 02's attention).
//   q (L, d_k), k (S, d_k), v (S, d_v), weights P (L, S) from the forward pass,
//   grad_output dO (L, d_v) = dL/d(output)   ->   dL/dq (L, d_k), dL/dk (S, d_k), dL/dv (S, d_v)
// The forward was  S = q kᵀ / √d_k,  P = softmax of each row of S (-inf where masked),  O = P v.
// Backward, last step first:
//   dv = Pᵀ dO                (S, d_v)   O = P v, so each v[j] was used with weight P[i][j]
//   dP = dO vᵀ                (L, S)
//   dS = softmax_backward(P, dP)          (L, S)
//   dq = dS k / √d_k          (L, d_k)   S = q kᵀ / √d_k: the 1/√d_k comes along, to q ...
//   dk = dSᵀ q / √d_k         (S, d_k)   ... and to k
// No mask argument: a masked entry has P = 0, so its dS is exactly 0 and it sends nothing to q or k;
// a fully masked row (all P = 0) gets a dq row of exactly 0.
// Source: the chain rule (Goodfellow et al., Deep Learning, section 6.5); karpathy/llm.c train_gpt2.c,
// attention_backward, does the same per head in loops.
// Throws std::invalid_argument when the shapes do not fit (q/k widths, k/v lengths, weights not
// (L, S), grad_output not (L, d_v)).
AttentionGradients attention_backward(const Matrix& q, const Matrix& k, const Matrix& v,
                                      const Matrix& weights, const Matrix& grad_output);

}  // namespace course

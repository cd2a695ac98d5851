// Chapter 13 — given code (not an exercise), defined in chapters/13_backpropagation/given/ and compiled with both
// the reference and your exercise, so the multi-head backward runs on whichever attention_backward it
// is linked with: yours in ./course check 13, the reference in the program and in chapters 14–17.
#pragma once
#include "05_multi_head_attention/given.hpp"  // MultiHeadWeights, split_heads, merge_heads, linear
#include "13_backpropagation/contract.hpp"
#include "gradcheck.hpp"  // numerical_gradient, compare_gradients (common/)

#include <cstddef>

namespace course {

// ⟨a, b⟩ = sum over all entries of a ⊙ b. The loss L = ⟨output, grad_output⟩ has dL/d(output) =
// grad_output, so a backward given grad_output computes the gradient of this L: the same thing
// output.backward(grad_output) computes in PyTorch. Gradient checks use it as their loss.
// Throws std::invalid_argument when the shapes differ.
double sum_of_products(const Matrix& a, const Matrix& b);

// The gradients of torch.nn.Linear's input, weight and bias.
struct LinearGradients {
  Matrix x;       // (n, in)   dL/dx
  Matrix weight;  // (out, in) dL/dW
  Vector bias;    // (out)     dL/db
};

// linear_backward — the backward of chapter 01's linear, y = x Wᵀ + b:
//   x (n, in), w (out, in), grad_y dY (n, out)  ->  dx (n, in), dW (out, in), db (out)
//   dx = dY W        (n, out)(out, in):  y[i][o] used x[i][p] with weight W[o][p]
//   dW = dYᵀ x       (out, n)(n, in):    ... and W[o][p] with every row's x[i][p]
//   db = the column sums of dY (out):    b[o] was added to every row's y[i][o]
// The bias itself is not needed. Throws std::invalid_argument when the shapes do not fit.
LinearGradients linear_backward(const Matrix& x, const Matrix& w, const Matrix& grad_y);

// What the multi-head backward needs from the forward pass, kept by multi_head_attention_forward.
// P, the (H, L, S) attention weights, is the only part that grows with L·S: chapter 12's tiled
// attention never stores it, and a backward built on it (FlashAttention's) recomputes it per tile.
struct MultiHeadActivations {
  std::size_t n_heads = 0;
  Matrix query, key, value;           // (L, E), (S, E), (S, E): the inputs, for the in_proj weight gradients
  Tensor3 q_heads, k_heads, v_heads;  // (H, L, d), (H, S, d), (H, S, d): projected and split
  Tensor3 weights;                    // (H, L, S): P of every head
  Matrix merged;  // (L, E): the heads' outputs side by side, for out_proj's weight gradient
  // The bytes of all of the above in float64.
  double bytes() const;
};

struct MultiHeadForward {
  Matrix output;               // (L, E), equal to chapter 05's multi_head_attention(...).output
  MultiHeadActivations saved;  // for multi_head_attention_backward
};

// multi_head_attention_forward — chapter 05's multi_head_attention, step by step, keeping what the
// backward needs. Same arguments, same output; throws std::invalid_argument like it.
MultiHeadForward multi_head_attention_forward(const Matrix& query, const Matrix& key, const Matrix& value,
                                              const MultiHeadWeights& w, std::size_t n_heads,
                                              const BoolMatrix& mask);

// The gradients of torch.nn.MultiheadAttention's three inputs and four parameters, named after its
// forward arguments and state_dict (in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias).
struct MultiHeadGradients {
  Matrix query, key, value;  // (L, E), (S, E), (S, E)
  Matrix in_proj_weight;     // (3E, E): rows [0, E) for W_q, [E, 2E) for W_k, [2E, 3E) for W_v
  Vector in_proj_bias;       // (3E)
  Matrix out_proj_weight;    // (E, E)
  Vector out_proj_bias;      // (E)
};

// multi_head_attention_backward — the forward's steps undone in reverse order, given dL/d(output) (L, E):
//   4. out_proj:   linear_backward(merged, W_o, dY)  ->  d merged (L, E), dW_o, db_o
//   3. merge_heads is undone by split_heads: d merged -> dO_h (L, d) for each head h
//   2. each head:  attention_backward(Q_h, K_h, V_h, P_h, dO_h)  ->  dQ_h, dK_h, dV_h   (your exercise)
//      split_heads is undone by merge_heads: dQ (L, E), dK (S, E), dV (S, E)
//   1. in_proj:    linear_backward(query, W_q, dQ), (key, W_k, dK), (value, W_v, dV)  ->  the inputs'
//                  gradients, and W_q, W_k, W_v's (stacked into in_proj_weight's), and b_q, b_k, b_v's
// For self-attention (query, key and value the same tensor x), x's gradient is the sum of the three.
// Throws std::invalid_argument when w or grad_output does not fit the saved activations.
MultiHeadGradients multi_head_attention_backward(const MultiHeadActivations& saved, const MultiHeadWeights& w,
                                                 const Matrix& grad_output);

// The same from the forward's arguments: runs multi_head_attention_forward, then the backward above.
// (Two calls in one: the forward is recomputed, which costs one more forward pass; keep the
// activations and call the one above when you have them, as a training step does.)
MultiHeadGradients multi_head_attention_backward(const Matrix& query, const Matrix& key, const Matrix& value,
                                                 const MultiHeadWeights& w, std::size_t n_heads,
                                                 const BoolMatrix& mask, const Matrix& grad_output);

}  // namespace course

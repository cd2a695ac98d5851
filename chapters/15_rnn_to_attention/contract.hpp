// Chapter 15 — from RNN to attention: the functions you write in
// exercises/15_rnn_to_attention/rnn_to_attention.cpp. The reference is
// chapters/15_rnn_to_attention/solution/rnn_to_attention.cpp; chapters/15_rnn_to_attention/test.cpp checks both
// (./course check 15). Code the course gives for this chapter (not an exercise) is in
// chapters/15_rnn_to_attention/given.hpp: additive attention's backward, Nadaraya–Watson pooling, and the
// encoder–decoder models built on your two functions.
#pragma once
#include "10_attention_vs_rnn/contract.hpp"  // RnnWeights, RnnResult, rnn_forward
#include "tensor.hpp"

namespace course {

// The parameters of additive (Bahdanau) scoring; A is the width of its hidden layer.
struct AdditiveWeights {
  Matrix W_q;  // (A, Dq): projects a query
  Matrix W_k;  // (A, Dk): projects a key
  Vector w_v;  // (A): turns tanh(W_q q + W_k k) into one number
};

struct AdditiveAttentionResult {
  Matrix output;   // (L, Dv): one weighted average of the values per query
  Matrix weights;  // (L, S): each row sums to 1
};

// additive_attention — Bahdanau, Cho and Bengio (2015), "Neural machine translation by jointly learning
// to align and translate", section 3.1 and appendix A.1.2 (their a(s_{i-1}, h_j)):
//   e[i][j] = w_vᵀ tanh(W_q q_i + W_k k_j)       a score from a one-hidden-layer network of (q_i, k_j)
//   weights = softmax of each row of e          (L, S)
//   output  = weights values                    (L, Dv)
//   queries (L, Dq), keys (S, Dk), values (S, Dv), w  ->  output (L, Dv), weights (L, S)
// Unlike the dot product q·k, the query's width Dq and the key's width Dk need not be equal: W_q and
// W_k take each to the common width A. W_q q_i is computed once per query and W_k k_j once per key;
// only the tanh and the product with w_v are done for each of the L·S pairs.
// Throws std::invalid_argument when a shape does not fit (W_q not (A, Dq), W_k not (A, Dk), w_v not
// (A), keys and values of different lengths).
AdditiveAttentionResult additive_attention(const Matrix& queries, const Matrix& keys, const Matrix& values,
                                           const AdditiveWeights& w);

// The gradients of torch.nn.RNN's input, initial state and four parameters (named after its forward
// arguments and state_dict); each has the shape of what it is the gradient of.
struct RnnGradients {
  Matrix input;         // (L, H_in)
  Matrix h0;            // (1, H)
  Matrix weight_ih_l0;  // (H, H_in)
  Matrix weight_hh_l0;  // (H, H)
  Vector bias_ih_l0;    // (H)
  Vector bias_hh_l0;    // (H)
};

// rnn_backward — backpropagation through time (Werbos 1990) for chapter 10's rnn_forward:
//   the forward was   a_t = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh,   h_t = tanh(a_t),   t = 1..L
//   input (L, H_in), w, h0 (1, H), output (L, H) = h_1..h_L from rnn_forward,
//   grad_output (L, H) = dL/dh_t from above (each step's output), grad_h_n (1, H) = dL/dh_L from the
//   final state (zeros when only the outputs are used, as in PyTorch's output.backward(grad_output))
//   ->  dL/d input (L, H_in), dL/d h0 (1, H), dL/dW_ih, dL/dW_hh, dL/db_ih, dL/db_hh
// Backward in time, t = L..1, carrying g = dL/dh_t (starting from grad_h_n):
//   g      += grad_output[t]               h_t went up, to the loss, and on to h_{t+1}
//   da_t    = g ⊙ (1 − h_t²)               tanh'(a) = 1 − tanh(a)²
//   g       = da_t W_hh                    (1, H): the gradient passed back to h_{t-1}
// and from all the da_t (L, H) at once:
//   d input = dA W_ih,   dW_ih = dAᵀ X,   dW_hh = dAᵀ [h_0; h_1; ..; h_{L-1}],   db_ih = db_hh = Σ_t da_t,
//   d h0 = the g left after step 1.
// Each step multiplies g by W_hh and by tanh's derivative (≤ 1): the gradient reaching x_1 from a late
// output shrinks (or grows) geometrically with the distance (Bengio, Simard and Frasconi 1994).
// Throws std::invalid_argument when a shape does not fit (as rnn_forward, plus output and grad_output
// not (L, H), grad_h_n not (1, H)).
RnnGradients rnn_backward(const Matrix& input, const RnnWeights& w, const Matrix& h0, const Matrix& output,
                          const Matrix& grad_output, const Matrix& grad_h_n);

}  // namespace course

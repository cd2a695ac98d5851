// Exercise 15 — from RNN to attention.
//
// Fill in the two functions below, then run   ./course check 15
// The contract is in chapters/15_rnn_to_attention/contract.hpp; stuck? ./course hint 15
#include "01_tensors/contract.hpp"  // softmax_rows
#include "15_rnn_to_attention/contract.hpp"
#include "linalg.hpp"  // product, product_nt, product_tn

namespace course {

// e[i][j] = w_vᵀ tanh(W_q q_i + W_k k_j),  weights = softmax_rows(e),  output = weights values
AdditiveAttentionResult additive_attention(const Matrix& queries, const Matrix& keys, const Matrix& values,
                                           const AdditiveWeights& w) {
  // TODO: check the shapes (W_q (A, Dq), W_k (A, Dk), w_v (A), values as many rows as keys);
  //       throw std::invalid_argument if one does not fit.
  // TODO: project every query once, W_q q_i for all i: (L, A); and every key once: (S, A).
  // TODO: for each pair (i, j): e[i][j] = sum over a of w_v[a] * tanh(q_proj[i][a] + k_proj[j][a]).
  // TODO: weights = softmax_rows(e); output = weights values.
  throw not_implemented("exercise 15: additive_attention");
}

// BPTT: g = dL/dh_t carried backwards; da_t = g ⊙ (1 − h_t²); g ← da_t W_hh; then the products.
RnnGradients rnn_backward(const Matrix& input, const RnnWeights& w, const Matrix& h0, const Matrix& output,
                          const Matrix& grad_output, const Matrix& grad_h_n) {
  // TODO: check every shape against L, H_in (input) and H (weight_ih_l0); throw std::invalid_argument.
  // TODO: g = grad_h_n. For t = L-1 down to 0: g += grad_output[t]; da_t = g ⊙ (1 − h_t²) with
  //       h_t = output[t]; keep da_t as row t of dA (L, H); then g = da_t W_hh.
  // TODO: the g left at the end is dL/dh0.
  // TODO: d input = dA W_ih; dW_ih = dAᵀ input; dW_hh = dAᵀ (h0, then output rows 0..L-2);
  //       db_ih = db_hh = the column sums of dA.
  throw not_implemented("exercise 15: rnn_backward");
}

}  // namespace course

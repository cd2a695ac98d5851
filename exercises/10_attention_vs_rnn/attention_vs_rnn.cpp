// Exercise 10 — attention vs RNN.
//
// Fill in the two functions below, then run   ./course check 10
// The contract is in chapters/10_attention_vs_rnn/contract.hpp; stuck? ./course hint 10
#include "10_attention_vs_rnn/contract.hpp"

#include <stdexcept>

namespace course {

// h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), one step after the other
RnnResult rnn_forward(const Matrix& input, const RnnWeights& w, const Matrix& h0) {
  // TODO: 1. check the shapes (see the contract); throw std::invalid_argument if they do not fit
  // TODO: 2. h = h0; for t = 0..L-1: h = tanh(W_ih x_t + b_ih + W_hh h + b_hh); output row t = h
  //          (compute the new h into a separate buffer: the old h is needed until the step is done)
  // TODO: 3. h_n = the last h, as a (1, H) matrix
  throw not_implemented("exercise 10: rnn_forward");
}

// s[t] = |layer(x + eps U)[t] - layer(x - eps U)[t]| / (2 eps), U = row 0 set to (1, ..., 1) / sqrt(d)
Vector sensitivity(const std::function<Matrix(const Matrix&)>& layer, const Matrix& x, double eps) {
  // TODO: 1. throw std::invalid_argument unless eps > 0
  // TODO: 2. plus = x with eps / sqrt(d) added to every entry of row 0; minus = the same, subtracted
  // TODO: 3. s(t) = Euclidean norm of (layer(plus) row t - layer(minus) row t), divided by 2 eps
  throw not_implemented("exercise 10: sensitivity");
}

}  // namespace course

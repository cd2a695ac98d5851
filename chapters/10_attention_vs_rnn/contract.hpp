// Chapter 10 — attention vs RNN: the functions you write in
// exercises/10_attention_vs_rnn/attention_vs_rnn.cpp. The reference is
// chapters/10_attention_vs_rnn/solution/attention_vs_rnn.cpp; chapters/10_attention_vs_rnn/test.cpp checks both
// (./course check 10).
#pragma once
#include "tensor.hpp"

#include <functional>

namespace course {

// The parameters of torch.nn.RNN(H_in, H) (one layer, tanh, bias=True), named after its state_dict.
struct RnnWeights {
  Matrix weight_ih_l0;  // (H, H_in)
  Matrix weight_hh_l0;  // (H, H)
  Vector bias_ih_l0;    // (H)
  Vector bias_hh_l0;    // (H)
};

struct RnnResult {
  Matrix output;  // (L, H): h_1 ... h_L, one row per step
  Matrix h_n;     // (1, H): the last hidden state, as PyTorch returns it (num_layers, H)
};

// rnn_forward — an Elman RNN with torch.nn.RNN's semantics (unbatched, one layer, tanh):
//   h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),   t = 1..L,  h_0 = h0
//   input (L, H_in), weights, h0 (1, H)  ->  output (L, H), h_n (1, H)
// Step t needs h_{t-1}: L steps that cannot run in parallel.
// Throws std::invalid_argument when a shape does not fit.
RnnResult rnn_forward(const Matrix& input, const RnnWeights& w, const Matrix& h0);

// sensitivity — how strongly each output row depends on input row 0, by central finite differences:
//   u = (1, 1, ..., 1) / sqrt(d) placed in row 0 of an (L, d) matrix U (other rows 0);
//   s[t] = || layer(x + eps U)[t] - layer(x - eps U)[t] || / (2 eps)      (Euclidean norm over row t)
//   layer maps (L, d) to (L, d_out);  x (L, d), eps > 0  ->  s (L)
// s[t] approximates the size of the derivative of output t along u (the directional derivative).
// Throws std::invalid_argument if eps <= 0 or layer changes the number of rows.
Vector sensitivity(const std::function<Matrix(const Matrix&)>& layer, const Matrix& x, double eps);

}  // namespace course

// Chapter 10 — attention vs RNN: the functions you write in
// exercises/10_attention_vs_rnn/attention_vs_rnn.cpp. The reference is
// solutions/10_attention_vs_rnn/attention_vs_rnn.cpp; tests/test_10_attention_vs_rnn.cpp checks both
// (./course check 10).
#pragma once
#include "npy.hpp"
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

// --- helper (given, not an exercise) --------------------------------------------------------------

// The files of torch.nn.RNN's forward pass and state_dict (the README's interop table; the conventions
// are in CONTRIBUTING.md).
struct RnnFiles {
  Matrix input;  // (L, H_in)
  RnnWeights weights;
  Matrix h0;  // (1, H): h0.npy, or zeros when the file does not exist (PyTorch's default)
};

// load_rnn — reads DIR/input.npy, weight_ih_l0.npy, weight_hh_l0.npy, bias_ih_l0.npy, bias_hh_l0.npy
// and the optional h0.npy, checking every shape against L, H_in and H (from weight_ih_l0). The shared
// loader (npy.hpp) has already refused empty arrays (so L, H_in, H >= 1; PyTorch refuses an empty
// sequence too), NaN, infinities and values above 1e15 in magnitude. Any problem is a usage_error
// naming the file.
inline RnnFiles load_rnn(const std::string& dir) {
  RnnFiles f;
  f.input = load_matrix(dir, "input", "(L, H_in)");
  f.weights.weight_ih_l0 = load_matrix(dir, "weight_ih_l0", "(H, H_in)");
  const std::size_t H = f.weights.weight_ih_l0.shape(0), H_in = f.input.shape(1);
  require_shape("weight_ih_l0.npy", f.weights.weight_ih_l0, {H, H_in},
                "(H, H_in) with the H_in of input.npy");
  f.weights.weight_hh_l0 = load_matrix(dir, "weight_hh_l0", "(H, H)");
  require_shape("weight_hh_l0.npy", f.weights.weight_hh_l0, {H, H}, "(H, H)");
  f.weights.bias_ih_l0 = load_vector(dir, "bias_ih_l0", "(H,)");
  require_shape("bias_ih_l0.npy", f.weights.bias_ih_l0, {H}, "(H,)");
  f.weights.bias_hh_l0 = load_vector(dir, "bias_hh_l0", "(H,)");
  require_shape("bias_hh_l0.npy", f.weights.bias_hh_l0, {H}, "(H,)");
  f.h0 = xt::zeros<double>({std::size_t{1}, H});
  if (npy_exists(dir, "h0")) {
    f.h0 = load_matrix(dir, "h0", "(1, H)");
    require_shape("h0.npy", f.h0, {1, H}, "(1, H)");
  }
  return f;
}

}  // namespace course

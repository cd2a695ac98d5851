// Chapter 11 — the transformer block: the functions you write in
// exercises/11_transformer_block/transformer_block.cpp. The reference is
// solutions/11_transformer_block/transformer_block.cpp; tests/test_11_transformer_block.cpp checks both
// (./course check 11). Code the course gives for this chapter (not an exercise) is in
// common/given/11_transformer_block.hpp.
#pragma once
#include "contracts/05_multi_head_attention.hpp"
#include "npy.hpp"

#include <string>

namespace course {

// layer_norm — torch.nn.LayerNorm(E, eps) over each row (Ba, Kiros & Hinton 2016):
//   x (n, E), gamma (E), beta (E), eps  ->  y (n, E)
//   mu_i = mean of row i,  var_i = mean of (x[i][j] - mu_i)^2  (divided by E, not E - 1)
//   y[i][j] = (x[i][j] - mu_i) / sqrt(var_i + eps) * gamma[j] + beta[j]
// Throws std::invalid_argument when gamma or beta is not E long.
Matrix layer_norm(const Matrix& x, const Vector& gamma, const Vector& beta, double eps);

// The parameters of torch.nn.TransformerEncoderLayer(E, H, F), named after its state_dict.
struct EncoderLayerWeights {
  // self_attn.in_proj_weight (3E, E), .in_proj_bias, .out_proj.weight, .out_proj.bias
  MultiHeadWeights self_attn;
  Matrix linear1_weight;            // (F, E)
  Vector linear1_bias;              // (F)
  Matrix linear2_weight;            // (E, F)
  Vector linear2_bias;              // (E)
  Vector norm1_weight, norm1_bias;  // (E)
  Vector norm2_weight, norm2_bias;  // (E)
};

// encoder_layer — the forward pass of torch.nn.TransformerEncoderLayer(E, H, F, dropout=0,
// activation=relu, layer_norm_eps=1e-5, norm_first), unbatched (Vaswani et al. 2017, section 3.1):
//   SA(x) = multi_head_attention(x, x, x, self_attn, n_heads, mask).output
//   FF(x) = linear2(relu(linear1(x)))                 the position-wise feed-forward network
//   post-norm (norm_first = false, the paper and PyTorch's default):
//     x = norm1(x + SA(x));   x = norm2(x + FF(x))
//   pre-norm (norm_first = true):
//     x = x + SA(norm1(x));   x = x + FF(norm2(x))
//   src (L, E), mask (L, S=L) bool (true = may not attend; no_mask(L, L) for none)  ->  (L, E)
Matrix encoder_layer(const Matrix& src, const EncoderLayerWeights& w, std::size_t n_heads, bool norm_first,
                     const BoolMatrix& mask);

// --- helper (given, not an exercise) --------------------------------------------------------------

// load_encoder_layer — reads the state_dict of a torch.nn.TransformerEncoderLayer from DIR, one
// .npy file per key (self_attn.in_proj_weight.npy, linear1.weight.npy, norm1.bias.npy, ...), and
// checks every shape against E (from self_attn.in_proj_weight) and F (from linear1.weight). The shared
// loader (npy.hpp) has already refused empty arrays (so E, F >= 1), NaN, infinities and values above
// 1e15 in magnitude. A missing or malformed file, or a shape that does not fit, is a usage_error
// naming the file.
inline EncoderLayerWeights load_encoder_layer(const std::string& dir) {
  EncoderLayerWeights w;
  w.self_attn.in_proj_weight = load_matrix(dir, "self_attn.in_proj_weight", "(3E, E)");
  const std::size_t E = w.self_attn.in_proj_weight.shape(1);
  require_shape("self_attn.in_proj_weight.npy", w.self_attn.in_proj_weight, {3 * E, E}, "(3E, E)");
  w.linear1_weight = load_matrix(dir, "linear1.weight", "(F, E)");
  const std::size_t F = w.linear1_weight.shape(0);
  require_shape("linear1.weight.npy", w.linear1_weight, {F, E}, "(F, E)");
  // every other key, with the shape it must have
  w.self_attn.in_proj_bias = load_vector(dir, "self_attn.in_proj_bias", "(3E,)");
  require_shape("self_attn.in_proj_bias.npy", w.self_attn.in_proj_bias, {3 * E}, "(3E,)");
  w.self_attn.out_proj_weight = load_matrix(dir, "self_attn.out_proj.weight", "(E, E)");
  require_shape("self_attn.out_proj.weight.npy", w.self_attn.out_proj_weight, {E, E}, "(E, E)");
  w.self_attn.out_proj_bias = load_vector(dir, "self_attn.out_proj.bias", "(E,)");
  require_shape("self_attn.out_proj.bias.npy", w.self_attn.out_proj_bias, {E}, "(E,)");
  w.linear1_bias = load_vector(dir, "linear1.bias", "(F,)");
  require_shape("linear1.bias.npy", w.linear1_bias, {F}, "(F,)");
  w.linear2_weight = load_matrix(dir, "linear2.weight", "(E, F)");
  require_shape("linear2.weight.npy", w.linear2_weight, {E, F}, "(E, F)");
  w.linear2_bias = load_vector(dir, "linear2.bias", "(E,)");
  require_shape("linear2.bias.npy", w.linear2_bias, {E}, "(E,)");
  Vector* norms[] = {&w.norm1_weight, &w.norm1_bias, &w.norm2_weight, &w.norm2_bias};
  const char* names[] = {"norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"};
  for (int i = 0; i < 4; ++i) {
    *norms[i] = load_vector(dir, names[i], "(E,)");
    require_shape(std::string(names[i]) + ".npy", *norms[i], {E}, "(E,)");
  }
  return w;
}

}  // namespace course

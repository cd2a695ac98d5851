// Chapter 11 — the transformer block: the functions you write in
// exercises/11_transformer_block/transformer_block.cpp. The reference is
// chapters/11_transformer_block/solution/transformer_block.cpp; chapters/11_transformer_block/test.cpp checks both
// (./course check 11). Code the course gives for this chapter (not an exercise) is in
// chapters/11_transformer_block/given.hpp.
#pragma once
#include "05_multi_head_attention/contract.hpp"

#include <string>

namespace course {

// torch.nn.LayerNorm's eps (and TransformerEncoderLayer's layer_norm_eps) by default: every layer norm
// of the course's models uses it, as PyTorch's do.
constexpr double kLayerNormEps = 1e-5;

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
//   src (L, E), mask (L, S=L) bool (true = may not attend; no_mask(L, L) of
//   chapters/04_masking/given.hpp for none)  ->  (L, E)
Matrix encoder_layer(const Matrix& src, const EncoderLayerWeights& w, std::size_t n_heads, bool norm_first,
                     const BoolMatrix& mask);

}  // namespace course

// Chapter 11 — given code (not an exercise), defined in chapters/11_transformer_block/given/ and compiled
// with both the reference and your exercise, so feed_forward runs on the linear() it is linked with.
#pragma once
#include "05_multi_head_attention/given.hpp"
#include "11_transformer_block/contract.hpp"
#include "rng.hpp"

namespace course {

// feed_forward — the position-wise feed-forward network of the encoder layer (Vaswani et al. 2017,
// section 3.3), with PyTorch's ReLU:
//   FF(x) = linear2(relu(linear1(x))) = max(0, x W1^T + b1) W2^T + b2
//   x (n, E), w.linear1_weight (F, E), w.linear1_bias (F), w.linear2_weight (E, F), w.linear2_bias (E)
//     ->  (n, E), through a hidden (n, F)
// Each row is transformed alone, with the same weights: positions do not mix here.
Matrix feed_forward(const Matrix& x, const EncoderLayerWeights& w);

// The ranges the four LayerNorm vectors of random_encoder_layer are drawn from.
struct NormInit {
  double weight_low = 0.8, weight_high = 1.2;  // norm1.weight, norm2.weight: near 1
  double bias_low = -0.1, bias_high = 0.1;     // norm1.bias, norm2.bias: near 0
};

// random_encoder_layer — a torch.nn.TransformerEncoderLayer(E, H, F)'s parameters drawn like its
// initialisation (uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in))), except the LayerNorm vectors, which
// are drawn from `norms` (PyTorch starts them at 1 and 0; away from those every term matters):
//   self_attn                   random_multi_head_weights(rng, E)               (chapter 05's draw)
//   linear1_weight (F, E), linear1_bias (F)     uniform, a = 1/sqrt(E)
//   linear2_weight (E, F), linear2_bias (E)     uniform, a = 1/sqrt(F)
//   norm1_weight, norm1_bias, norm2_weight, norm2_bias (E)   from norms
// drawn from rng in that order, each filled row by row.
EncoderLayerWeights random_encoder_layer(Rng& rng, std::size_t E, std::size_t F, const NormInit& norms = {});

// --- torch.nn.TransformerEncoderLayer: chapter 11 -------------------------------------------------

// load_encoder_layer — reads the state_dict of a torch.nn.TransformerEncoderLayer from DIR, one
// .npy file per key (self_attn.in_proj_weight.npy, linear1.weight.npy, norm1.bias.npy, ...), and
// checks every shape against E (from self_attn.in_proj_weight) and F (from linear1.weight). The shared
// loader (npy.hpp) has already refused empty arrays (so E, F >= 1), NaN, infinities and values above
// 1e15 in magnitude. A missing or malformed file, or a shape that does not fit, is a usage_error
// naming the file. With a prefix, the keys are DIR/<prefix><key>.npy: a layer inside a larger model's
// state_dict (chapter 14's "layers.0.", chapter 16's "blocks.0.").
EncoderLayerWeights load_encoder_layer(const std::string& dir, const std::string& prefix = "");

}  // namespace course

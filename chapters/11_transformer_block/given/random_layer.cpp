// Chapter 11 — given code (declared in chapters/11_transformer_block/given.hpp).
#include "11_transformer_block/given.hpp"

namespace course {

// self_attn, linear1, linear2 like PyTorch's initialisation; the norms from `norms`
EncoderLayerWeights random_encoder_layer(Rng& rng, std::size_t E, std::size_t F, const NormInit& norms) {
  const double a = 1.0 / std::sqrt(static_cast<double>(E)), b = 1.0 / std::sqrt(static_cast<double>(F));
  const auto vec = [&](std::size_t n, double low, double high) {
    return Vector(xt::view(rng.uniform_matrix(1, n, low, high), 0));
  };
  EncoderLayerWeights w;
  w.self_attn = random_multi_head_weights(rng, E);
  w.linear1_weight = rng.uniform_matrix(F, E, -a, a);
  w.linear1_bias = vec(F, -a, a);
  w.linear2_weight = rng.uniform_matrix(E, F, -b, b);
  w.linear2_bias = vec(E, -b, b);
  w.norm1_weight = vec(E, norms.weight_low, norms.weight_high);
  w.norm1_bias = vec(E, norms.bias_low, norms.bias_high);
  w.norm2_weight = vec(E, norms.weight_low, norms.weight_high);
  w.norm2_bias = vec(E, norms.bias_low, norms.bias_high);
  return w;
}

}  // namespace course

// PyTorch's files for this chapter's --load DIR (the loaders of all chapters are alike: common/pytorch.hpp
// says how they read and check).
#include "11_transformer_block/given.hpp"

#include "npy.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <set>

namespace course {

// the twelve state_dict arrays of torch.nn.TransformerEncoderLayer
EncoderLayerWeights load_encoder_layer(const std::string& dir, const std::string& prefix) {
  // DIR/<prefix><key>.npy, named in errors as <prefix><key>.npy
  const auto matrix = [&](const std::string& key, const std::string& dims) {
    return load_matrix(dir, prefix + key, dims);
  };
  const auto vector = [&](const std::string& key, const std::string& dims) {
    return load_vector(dir, prefix + key, dims);
  };
  const auto require = [&](const std::string& key, const auto& t, std::vector<std::size_t> shape,
                           const std::string& dims) { require_shape(prefix + key + ".npy", t, shape, dims); };
  EncoderLayerWeights w;
  w.self_attn.in_proj_weight = matrix("self_attn.in_proj_weight", "(3E, E)");
  const std::size_t E = w.self_attn.in_proj_weight.shape(1);
  require("self_attn.in_proj_weight", w.self_attn.in_proj_weight, {3 * E, E}, "(3E, E)");
  w.linear1_weight = matrix("linear1.weight", "(F, E)");
  const std::size_t F = w.linear1_weight.shape(0);
  require("linear1.weight", w.linear1_weight, {F, E}, "(F, E)");
  // every other key, with the shape it must have
  w.self_attn.in_proj_bias = vector("self_attn.in_proj_bias", "(3E,)");
  require("self_attn.in_proj_bias", w.self_attn.in_proj_bias, {3 * E}, "(3E,)");
  w.self_attn.out_proj_weight = matrix("self_attn.out_proj.weight", "(E, E)");
  require("self_attn.out_proj.weight", w.self_attn.out_proj_weight, {E, E}, "(E, E)");
  w.self_attn.out_proj_bias = vector("self_attn.out_proj.bias", "(E,)");
  require("self_attn.out_proj.bias", w.self_attn.out_proj_bias, {E}, "(E,)");
  w.linear1_bias = vector("linear1.bias", "(F,)");
  require("linear1.bias", w.linear1_bias, {F}, "(F,)");
  w.linear2_weight = matrix("linear2.weight", "(E, F)");
  require("linear2.weight", w.linear2_weight, {E, F}, "(E, F)");
  w.linear2_bias = vector("linear2.bias", "(E,)");
  require("linear2.bias", w.linear2_bias, {E}, "(E,)");
  Vector* norms[] = {&w.norm1_weight, &w.norm1_bias, &w.norm2_weight, &w.norm2_bias};
  const char* names[] = {"norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"};
  for (int i = 0; i < 4; ++i) {
    *norms[i] = vector(names[i], "(E,)");
    require(names[i], *norms[i], {E}, "(E,)");
  }
  return w;
}

// the N of every DIR/<prefix>N.<key>.npy, which must be 0, 1, ..., count - 1

}  // namespace course

// PyTorch's files for this chapter's --load DIR (the loaders of all chapters are alike: common/pytorch.hpp
// says how they read and check).
#include "04_masking/given.hpp"

#include "npy.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <set>

namespace course {

// the inputs, in_proj, out_proj and the optional masks of torch.nn.MultiheadAttention
AttentionLayerFiles load_attention_layer(const std::string& dir) {
  AttentionLayerFiles f;
  f.query = load_matrix(dir, "query", "(L, E)");
  const std::size_t L = f.query.shape(0), E = f.query.shape(1);
  f.key = load_matrix(dir, "key", "(S, E)");
  const std::size_t S = f.key.shape(0);
  require_shape("key.npy", f.key, {S, E}, "(S, E) with the E of query.npy");
  f.value = load_matrix(dir, "value", "(S, E)");
  require_shape("value.npy", f.value, {S, E}, "(S, E) with S and E of key.npy");
  f.in_proj_weight = load_matrix(dir, "in_proj_weight", "(3E, E)");
  require_shape("in_proj_weight.npy", f.in_proj_weight, {3 * E, E}, "(3E, E)");
  f.in_proj_bias = load_vector(dir, "in_proj_bias", "(3E,)");
  require_shape("in_proj_bias.npy", f.in_proj_bias, {3 * E}, "(3E,)");
  f.out_proj_weight = load_matrix(dir, "out_proj.weight", "(E, E)");
  require_shape("out_proj.weight.npy", f.out_proj_weight, {E, E}, "(E, E)");
  f.out_proj_bias = load_vector(dir, "out_proj.bias", "(E,)");
  require_shape("out_proj.bias.npy", f.out_proj_bias, {E}, "(E,)");
  f.mask = no_mask(L, S);
  if (npy_exists(dir, "attn_mask")) {
    const BoolMatrix m = load_bool_matrix(dir, "attn_mask", "(L, S)");
    require_shape("attn_mask.npy", m, {L, S}, "(L, S)");
    f.mask = combine_masks(f.mask, m);
  }
  if (npy_exists(dir, "key_padding_mask")) {
    const BoolVector p = load_bool_vector(dir, "key_padding_mask", "(S,)");
    require_shape("key_padding_mask.npy", p, {S}, "(S,)");
    f.mask = combine_masks(f.mask, padding_mask(p, L));
  }
  return f;
}

}  // namespace course

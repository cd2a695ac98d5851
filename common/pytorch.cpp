#include "pytorch.hpp"

#include "given/04_masking.hpp"  // no_mask, padding_mask, combine_masks

#include <fmt/format.h>

#include <filesystem>
#include <set>

namespace course {

// query (L, E), key (S, E), value (S, Ev)
AttentionInputs load_attention_inputs(const std::string& dir) {
  AttentionInputs in{load_matrix(dir, "query", "(L, E)"), load_matrix(dir, "key", "(S, E)"),
                     load_matrix(dir, "value", "(S, Ev)")};
  require_shape("key.npy", in.key, {in.key.shape(0), in.query.shape(1)}, "(S, E) with the E of query.npy");
  require_shape("value.npy", in.value, {in.key.shape(0), in.value.shape(1)}, "(S, Ev) with the S of key.npy");
  return in;
}

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

// input (L, H_in), the four state_dict arrays of torch.nn.RNN, h0 (1, H) or zeros
RnnFiles load_rnn(const std::string& dir) {
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
std::size_t count_numbered_layers(const std::string& dir, const std::string& prefix) {
  std::set<std::size_t> numbers;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() < 4 || file.compare(file.size() - 4, 4, ".npy") != 0) continue;
    if (file.compare(0, prefix.size(), prefix) != 0) continue;
    // the digits after the prefix, then a dot; anything else is left to require_no_unread_files
    std::size_t i = prefix.size(), n = 0;
    while (i < file.size() && i < prefix.size() + 6 && file[i] >= '0' && file[i] <= '9')
      n = 10 * n + (file[i++] - '0');
    if (i > prefix.size() && i < file.size() && file[i] == '.') numbers.insert(n);
  }
  if (ec)
    throw usage_error(fmt::format("--load {}: cannot list the directory ({})", shorten(dir), ec.message()));
  std::size_t expected = 0;
  for (const std::size_t n : numbers) {
    if (n != expected) {
      throw usage_error(
          fmt::format("{}{}.*.npy: there is no {}{}.*.npy; the layers must be numbered 0, 1, 2, "
                      "... without a gap",
                      prefix, n, prefix, expected));
    }
    ++expected;
  }
  return numbers.size();
}

}  // namespace course

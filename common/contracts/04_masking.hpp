// Chapter 04 — masking: the functions you write in exercises/04_masking/masking.cpp. The reference is
// solutions/04_masking/masking.cpp; tests/test_04_masking.cpp checks both (./course check 04). Code the
// course gives for this chapter (not an exercise) is in common/given/04_masking.hpp.
#pragma once
#include "contracts/02_dot_product_attention.hpp"
#include "given/01_tensors.hpp"  // linear
#include "npy.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>

namespace course {

// causal_mask — what a decoder must not see: the future.
//   n  ->  mask (n, n) bool,   mask[i][j] = (j > i)
// true means "may not attend", as in torch.nn.MultiheadAttention's bool attn_mask and key_padding_mask
// (torch.nn.functional.scaled_dot_product_attention's bool mask means the opposite): query i may look
// at keys 0..i only. Every mask in the course follows this convention.
BoolMatrix causal_mask(std::size_t n);

// masked_attention — scaled dot-product attention in which masked pairs get no weight.
//   q (L, d_k), k (S, d_k), v (S, d_v), mask (L, S) bool (true = may not attend)
//     ->  output (L, d_v), weights (L, S)
//   scores = q k^T / sqrt(d_k);  scores[i][j] = -inf where mask[i][j];  weights = softmax of each row
// A fully masked row (query i may attend to nothing) gets all-zero weights and a zero output row.
// (PyTorch's softmax gives NaN there: exp(-inf) / sum of exp(-inf) = 0 / 0.)
// Throws std::invalid_argument when the shapes do not fit (q/k widths, k/v lengths, mask not (L, S)).
AttentionResult masked_attention(const Matrix& q, const Matrix& k, const Matrix& v, const BoolMatrix& mask);

// --- helpers (given, not exercises) ---------------------------------------------------------------

// No mask at all: (L, S) of false.
inline BoolMatrix no_mask(std::size_t L, std::size_t S) {
  return xt::zeros<bool>({L, S});
}

// padding_mask — keys that are padding may not be attended by any query.
//   key_padding (S) bool (true = padding, PyTorch's key_padding_mask), L  ->  mask (L, S)
inline BoolMatrix padding_mask(const BoolVector& key_padding, std::size_t L) {
  BoolMatrix mask = xt::zeros<bool>({L, key_padding.size()});
  for (std::size_t i = 0; i < L; ++i)
    for (std::size_t j = 0; j < key_padding.size(); ++j) mask(i, j) = key_padding(j);
  return mask;
}

// Either mask forbids: a | b, elementwise, both (L, S).
inline BoolMatrix combine_masks(const BoolMatrix& a, const BoolMatrix& b) {
  BoolMatrix mask = a;
  for (std::size_t i = 0; i < mask.shape(0); ++i)
    for (std::size_t j = 0; j < mask.shape(1); ++j) mask(i, j) = a(i, j) || b(i, j);
  return mask;
}

// The files of torch.nn.MultiheadAttention's forward pass and state_dict, read by chapters 04 and 05
// with --load DIR (listed under 05 in the README's interop table; the conventions are in CONTRIBUTING.md).
struct AttentionLayerFiles {
  Matrix query, key, value;  // (L, E), (S, E), (S, E)
  Matrix in_proj_weight;     // (3E, E)
  Vector in_proj_bias;       // (3E)
  Matrix out_proj_weight;    // (E, E)
  Vector out_proj_bias;      // (E)
  BoolMatrix mask;           // (L, S): attn_mask.npy | key_padding_mask.npy, all false if neither exists
};

// load_attention_layer — reads DIR/{query,key,value,in_proj_weight,in_proj_bias,out_proj.weight,
// out_proj.bias}.npy and the optional bool masks attn_mask.npy (L, S) and key_padding_mask.npy (S),
// checking every shape against L, S and E. The shared loader (npy.hpp) has already refused empty
// arrays (so L, S, E >= 1), NaN, infinities and values above 1e15 in magnitude. Any problem is a
// usage_error naming the file.
inline AttentionLayerFiles load_attention_layer(const std::string& dir) {
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

// one_head_layer — torch.nn.MultiheadAttention with one head on those files: project the inputs with
// the three (E, E) blocks of in_proj (rows [0, E), [E, 2E), [2E, 3E)), masked_attention, then out_proj.
//   -> output (L, E) after out_proj, weights (L, S)
// A fully masked row has zero weights and a zero attention output, so its output row is out_proj.bias
// (PyTorch 1.13 gives NaN there).
inline AttentionResult one_head_layer(const AttentionLayerFiles& f) {
  const std::size_t E = f.query.shape(1);
  const auto rows = [&](std::size_t from) {
    return Matrix(xt::view(f.in_proj_weight, xt::range(from, from + E), xt::all()));
  };
  const auto bias = [&](std::size_t from) {
    return Vector(xt::view(f.in_proj_bias, xt::range(from, from + E)));
  };
  const Matrix q = linear(f.query, rows(0), bias(0));
  const Matrix k = linear(f.key, rows(E), bias(E));
  const Matrix v = linear(f.value, rows(2 * E), bias(2 * E));
  const AttentionResult r = masked_attention(q, k, v, f.mask);
  return {linear(r.output, f.out_proj_weight, f.out_proj_bias), r.weights};
}

}  // namespace course

// Chapter 04 — given code (declared in chapters/04_masking/given.hpp).
#include "04_masking/given.hpp"

namespace course {

// in_proj's three blocks, masked_attention, out_proj:  -> output (L, E), weights (L, S)
AttentionResult one_head_layer(const AttentionLayerFiles& f) {
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

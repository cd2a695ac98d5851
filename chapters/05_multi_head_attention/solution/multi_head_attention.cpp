// Chapter 05 — reference solutions (the contract is in chapters/05_multi_head_attention/contract.hpp).
#include "05_multi_head_attention/contract.hpp"

#include "01_tensors/given.hpp"  // linear

#include <fmt/format.h>

#include <stdexcept>

namespace course {

// x (n, d_model) -> heads (n_heads, n, d_head): head h takes columns [h*d_head, (h+1)*d_head)
Tensor3 split_heads(const Matrix& x, std::size_t n_heads) {
  const std::size_t n = x.shape(0), d_model = x.shape(1);
  if (n_heads == 0 || d_model % n_heads != 0) {
    throw std::invalid_argument(
        fmt::format("split_heads: {} heads do not divide d_model = {}", n_heads, d_model));
  }
  const std::size_t d_head = d_model / n_heads;
  Tensor3 heads = Tensor3::from_shape({n_heads, n, d_head});
  for (std::size_t h = 0; h < n_heads; ++h)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < d_head; ++c) heads(h, i, c) = x(i, h * d_head + c);
  return heads;
}

// heads (n_heads, n, d_head) -> x (n, n_heads * d_head)
Matrix merge_heads(const Tensor3& heads) {
  const std::size_t n_heads = heads.shape(0), n = heads.shape(1), d_head = heads.shape(2);
  Matrix x = Matrix::from_shape({n, n_heads * d_head});
  for (std::size_t h = 0; h < n_heads; ++h)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < d_head; ++c) x(i, h * d_head + c) = heads(h, i, c);
  return x;
}

namespace {
// Rows [first, first + count) of w and entries [first, first + count) of b.
Matrix rows_of(const Matrix& w, std::size_t first, std::size_t count) {
  return xt::view(w, xt::range(first, first + count), xt::all());
}
Vector entries_of(const Vector& b, std::size_t first, std::size_t count) {
  return xt::view(b, xt::range(first, first + count));
}
}  // namespace

MultiHeadResult multi_head_attention(const Matrix& query, const Matrix& key, const Matrix& value,
                                     const MultiHeadWeights& w, std::size_t n_heads, const BoolMatrix& mask) {
  const std::size_t L = query.shape(0), S = key.shape(0), E = query.shape(1);
  if (key.shape(1) != E || value.shape(1) != E || value.shape(0) != S) {
    throw std::invalid_argument(fmt::format("multi_head_attention: query {}, key {}, value {} do not fit",
                                            shape_of(query), shape_of(key), shape_of(value)));
  }
  // (out_proj_weight.shape(1) != E alone would also be refused below, by linear()'s own check that the
  // inner sizes agree; it is checked here so that the error names this function. Leaving it out
  // changes only the message, so no test can tell the two apart.)
  if (w.in_proj_weight.shape(0) != 3 * E || w.in_proj_weight.shape(1) != E ||
      w.in_proj_bias.size() != 3 * E || w.out_proj_weight.shape(0) != E || w.out_proj_weight.shape(1) != E ||
      w.out_proj_bias.size() != E) {
    throw std::invalid_argument(fmt::format("multi_head_attention: weights do not fit E = {}", E));
  }
  // 1. project: Q (L, E), K (S, E), V (S, E)
  const Matrix q = linear(query, rows_of(w.in_proj_weight, 0, E), entries_of(w.in_proj_bias, 0, E));
  const Matrix k = linear(key, rows_of(w.in_proj_weight, E, E), entries_of(w.in_proj_bias, E, E));
  const Matrix v = linear(value, rows_of(w.in_proj_weight, 2 * E, E), entries_of(w.in_proj_bias, 2 * E, E));
  // 2. split into heads: (H, L, d_head), (H, S, d_head), (H, S, d_head)
  const Tensor3 q_heads = split_heads(q, n_heads), k_heads = split_heads(k, n_heads),
                v_heads = split_heads(v, n_heads);
  // 3. attend within each head
  const std::size_t d_head = E / n_heads;
  Tensor3 outputs = Tensor3::from_shape({n_heads, L, d_head});
  Tensor3 weights = Tensor3::from_shape({n_heads, L, S});
  for (std::size_t h = 0; h < n_heads; ++h) {
    const Matrix q_h = xt::view(q_heads, h, xt::all(), xt::all());
    const Matrix k_h = xt::view(k_heads, h, xt::all(), xt::all());
    const Matrix v_h = xt::view(v_heads, h, xt::all(), xt::all());
    const AttentionResult head = masked_attention(q_h, k_h, v_h, mask);
    xt::view(outputs, h, xt::all(), xt::all()) = head.output;
    xt::view(weights, h, xt::all(), xt::all()) = head.weights;
  }
  // 4. concatenate the heads and project: (L, E)
  Matrix output = linear(merge_heads(outputs), w.out_proj_weight, w.out_proj_bias);
  return {output, weights};
}

}  // namespace course

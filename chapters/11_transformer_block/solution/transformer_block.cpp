// Chapter 11 — reference solutions (the contract is in chapters/11_transformer_block/contract.hpp).
#include "11_transformer_block/contract.hpp"

#include "11_transformer_block/given.hpp"  // feed_forward

#include <fmt/format.h>

#include <stdexcept>

namespace course {

// y[i][j] = (x[i][j] - mean_i) / sqrt(var_i + eps) * gamma[j] + beta[j]
Matrix layer_norm(const Matrix& x, const Vector& gamma, const Vector& beta, double eps) {
  const std::size_t n = x.shape(0), E = x.shape(1);
  if (gamma.size() != E || beta.size() != E) {
    throw std::invalid_argument(fmt::format("layer_norm: x is {} but gamma has {} and beta {} entries",
                                            shape_of(x), gamma.size(), beta.size()));
  }
  Matrix y = Matrix::from_shape({n, E});
  for (std::size_t i = 0; i < n; ++i) {
    // 1. mean and (biased) variance of the row
    double mean = 0.0;
    for (std::size_t j = 0; j < E; ++j) mean += x(i, j);
    mean /= static_cast<double>(E);
    double var = 0.0;
    for (std::size_t j = 0; j < E; ++j) var += (x(i, j) - mean) * (x(i, j) - mean);
    var /= static_cast<double>(E);
    // 2. normalise, then scale and shift
    const double inv_std = 1.0 / std::sqrt(var + eps);
    for (std::size_t j = 0; j < E; ++j) y(i, j) = (x(i, j) - mean) * inv_std * gamma(j) + beta(j);
  }
  return y;
}

namespace {
Matrix self_attention_block(const Matrix& x, const EncoderLayerWeights& w, std::size_t n_heads,
                            const BoolMatrix& mask) {
  return multi_head_attention(x, x, x, w.self_attn, n_heads, mask).output;
}
}  // namespace

Matrix encoder_layer(const Matrix& src, const EncoderLayerWeights& w, std::size_t n_heads, bool norm_first,
                     const BoolMatrix& mask) {
  const double eps = kLayerNormEps;
  Matrix x = src;
  if (norm_first) {
    // pre-norm: normalise what goes into each sublayer; the residual path stays untouched
    x = x + self_attention_block(layer_norm(x, w.norm1_weight, w.norm1_bias, eps), w, n_heads, mask);
    x = x + feed_forward(layer_norm(x, w.norm2_weight, w.norm2_bias, eps), w);
  } else {
    // post-norm: normalise after each residual addition
    x = layer_norm(x + self_attention_block(x, w, n_heads, mask), w.norm1_weight, w.norm1_bias, eps);
    x = layer_norm(x + feed_forward(x, w), w.norm2_weight, w.norm2_bias, eps);
  }
  return x;
}

}  // namespace course

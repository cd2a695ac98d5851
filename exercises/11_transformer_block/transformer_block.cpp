// Exercise 11 — the transformer block.
//
// Fill in the two functions below, then run   ./course check 11
// The contract is in chapters/11_transformer_block/contract.hpp; stuck? ./course hint 11
// multi_head_attention (chapter 05) and the given feed_forward() (chapters/11_transformer_block/given.hpp)
// are yours to use.
#include "11_transformer_block/contract.hpp"
#include "11_transformer_block/given.hpp"

#include <stdexcept>

namespace course {

// y[i][j] = (x[i][j] - mean_i) / sqrt(var_i + eps) * gamma[j] + beta[j]
Matrix layer_norm(const Matrix& x, const Vector& gamma, const Vector& beta, double eps) {
  // TODO: 1. throw std::invalid_argument unless gamma and beta have E = x.shape(1) entries
  // TODO: 2. for each row: its mean, and its variance dividing by E (not E - 1)
  // TODO: 3. y(i, j) = (x(i, j) - mean) / sqrt(var + eps) * gamma(j) + beta(j)
  throw not_implemented("exercise 11: layer_norm");
}

Matrix encoder_layer(const Matrix& src, const EncoderLayerWeights& w, std::size_t n_heads, bool norm_first,
                     const BoolMatrix& mask) {
  // TODO: 1. SA(x) = multi_head_attention(x, x, x, w.self_attn, n_heads, mask).output
  // TODO: 2. FF(x) = feed_forward(x, w), given: linear2(relu(linear1(x)))
  // TODO: 3. post-norm: x = norm1(x + SA(x)), then x = norm2(x + FF(x));
  //          pre-norm:  x = x + SA(norm1(x)), then x = x + FF(norm2(x));   eps = 1e-5
  throw not_implemented("exercise 11: encoder_layer");
}

}  // namespace course

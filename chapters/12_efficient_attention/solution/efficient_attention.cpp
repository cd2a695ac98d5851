// Chapter 12 — reference solutions (the contract is in chapters/12_efficient_attention/contract.hpp).
#include "12_efficient_attention/contract.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace course {

// one pass: running max m and running sum l of exp(x - m); then normalise
Vector online_softmax(const Vector& scores) {
  double m = -INFINITY, l = 0.0;
  for (double x : scores) {
    // a -inf score (a masked key) adds exp(-inf) = 0; skip it, or while m is still -inf it would
    // compute exp(-inf - -inf) = NaN
    if (x == -INFINITY) continue;
    const double m_new = std::max(m, x);
    l = l * std::exp(m - m_new) + std::exp(x - m_new);  // exp(-inf - finite) = 0 on the first step
    m = m_new;
  }
  // no finite score at all (every key masked): zero weights, as chapter 04's fully masked row
  if (m == -INFINITY) return xt::zeros<double>({scores.size()});
  Vector p = Vector::from_shape({scores.size()});
  for (std::size_t j = 0; j < scores.size(); ++j) p(j) = std::exp(scores(j) - m) / l;
  return p;
}

// output (L, d_v) = softmax(q k^T / sqrt(d)) v, block by block, with running max / sum / accumulator
Matrix tiled_attention(const Matrix& q, const Matrix& k, const Matrix& v, std::size_t block_size,
                       bool causal) {
  const std::size_t L = q.shape(0), S = k.shape(0), d = q.shape(1), d_v = v.shape(1), B = block_size;
  if (k.shape(1) != d || v.shape(0) != S) {
    throw std::invalid_argument(
        fmt::format("tiled_attention: q {}, k {}, v {} do not fit", shape_of(q), shape_of(k), shape_of(v)));
  }
  if (B == 0) throw std::invalid_argument("tiled_attention: the block size must be at least 1");
  if (causal && L != S) {
    throw std::invalid_argument(
        fmt::format("tiled_attention: a causal mask needs L == S, got {} and {}", L, S));
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  Matrix output = Matrix::from_shape({L, d_v});
  // per query row of the current block: running max, running sum, unnormalised output
  std::vector<double> m(B), l(B), acc(B * d_v), s(B * B);
  for (std::size_t q0 = 0; q0 < L; q0 += B) {
    const std::size_t q1 = std::min(L, q0 + B);
    std::fill(m.begin(), m.end(), -INFINITY);
    std::fill(l.begin(), l.end(), 0.0);
    std::fill(acc.begin(), acc.end(), 0.0);
    const std::size_t k_end = causal ? q1 : S;  // causal: keys after the last query of the block never count
    for (std::size_t k0 = 0; k0 < k_end; k0 += B) {
      const std::size_t k1 = std::min(k_end, k0 + B);
      for (std::size_t i = q0; i < q1; ++i) {
        const std::size_t r = i - q0;
        // 1. this block's scores for query i (masked ones are -inf) and their maximum
        double block_max = -INFINITY;
        for (std::size_t j = k0; j < k1; ++j) {
          double score = -INFINITY;
          if (!causal || j <= i) {
            score = 0.0;
            for (std::size_t c = 0; c < d; ++c) score += q(i, c) * k(j, c);
            score *= scale;
          }
          s[r * B + (j - k0)] = score;
          block_max = std::max(block_max, score);
        }
        if (block_max == -INFINITY) continue;  // nothing visible in this block
        // 2. rescale what we had to the new maximum, then add this block
        const double m_new = std::max(m[r], block_max);
        const double rescale = std::exp(m[r] - m_new);
        l[r] *= rescale;
        for (std::size_t c = 0; c < d_v; ++c) acc[r * d_v + c] *= rescale;
        for (std::size_t j = k0; j < k1; ++j) {
          const double p = std::exp(s[r * B + (j - k0)] - m_new);
          l[r] += p;
          for (std::size_t c = 0; c < d_v; ++c) acc[r * d_v + c] += p * v(j, c);
        }
        m[r] = m_new;
      }
    }
    // 3. normalise once at the end
    for (std::size_t i = q0; i < q1; ++i)
      for (std::size_t c = 0; c < d_v; ++c) output(i, c) = acc[(i - q0) * d_v + c] / l[i - q0];
  }
  return output;
}

}  // namespace course

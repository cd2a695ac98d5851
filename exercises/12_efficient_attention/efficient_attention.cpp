// Exercise 12 — efficient attention.
//
// Fill in the two functions below, then run   ./course check 12
// The contract is in chapters/12_efficient_attention/contract.hpp; stuck? ./course hint 12
#include "12_efficient_attention/contract.hpp"

#include <stdexcept>

namespace course {

// one pass: running max m and running sum l of exp(x - m); then normalise
Vector online_softmax(const Vector& scores) {
  // TODO: 1. m = -INFINITY, l = 0
  // TODO: 2. for each score x: m_new = max(m, x); l = l * exp(m - m_new) + exp(x - m_new); m = m_new
  // TODO: 3. p(j) = exp(scores(j) - m) / l
  throw not_implemented("exercise 12: online_softmax");
}

// output (L, d_v) = softmax(q k^T / sqrt(d)) v, block by block, with running max / sum / accumulator
Matrix tiled_attention(const Matrix& q, const Matrix& k, const Matrix& v, std::size_t block_size,
                       bool causal) {
  // TODO: 1. check shapes, block_size >= 1, and L == S when causal; else throw std::invalid_argument
  // TODO: 2. for each block of queries [q0, q1): running m (-inf), l (0) and acc (zeros, d_v) per query
  // TODO: 3. for each block of keys [k0, k1) (only up to q1 when causal): the block's scores for each
  //          query (-inf where j > i if causal); m_new = max(m, block max); multiply l and acc by
  //          exp(m - m_new); add exp(s - m_new) to l and exp(s - m_new) * v_j to acc; m = m_new
  // TODO: 4. output row i = acc / l
  throw not_implemented("exercise 12: tiled_attention");
}

}  // namespace course

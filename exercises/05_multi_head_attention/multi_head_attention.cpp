// Exercise 05 — multi-head attention.
//
// Fill in the three functions below, then run   ./course check 05
// The contract is in chapters/05_multi_head_attention/contract.hpp; stuck? ./course hint 05
// masked_attention (chapter 04), matmul (chapter 01) and the given linear() (chapters/01_tensors/given.hpp)
// are yours to use.
#include "01_tensors/given.hpp"
#include "05_multi_head_attention/contract.hpp"

#include <stdexcept>

namespace course {

// x (n, d_model) -> heads (n_heads, n, d_head): head h takes columns [h*d_head, (h+1)*d_head)
Tensor3 split_heads(const Matrix& x, std::size_t n_heads) {
  // TODO: 1. throw std::invalid_argument if n_heads == 0 or d_model % n_heads != 0
  // TODO: 2. d_head = d_model / n_heads;  Tensor3 heads = Tensor3::from_shape({n_heads, n, d_head});
  // TODO: 3. heads(h, i, c) = x(i, h * d_head + c)
  throw not_implemented("exercise 05: split_heads");
}

// heads (n_heads, n, d_head) -> x (n, n_heads * d_head)
Matrix merge_heads(const Tensor3& heads) {
  // TODO: the inverse of split_heads: x(i, h * d_head + c) = heads(h, i, c)
  throw not_implemented("exercise 05: merge_heads");
}

MultiHeadResult multi_head_attention(const Matrix& query, const Matrix& key, const Matrix& value,
                                     const MultiHeadWeights& w, std::size_t n_heads, const BoolMatrix& mask) {
  // TODO: 1. Q = linear(query, W_q, b_q), K = linear(key, W_k, b_k), V = linear(value, W_v, b_v), where
  //          W_q, W_k, W_v are rows [0, E), [E, 2E), [2E, 3E) of w.in_proj_weight (and likewise the biases;
  //          xt::view(w.in_proj_weight, xt::range(0, E), xt::all()) copied into a Matrix)
  // TODO: 2. split Q, K and V into heads
  // TODO: 3. for each head h: masked_attention(Q_h, K_h, V_h, mask); keep its output and its weights
  // TODO: 4. output = linear(merge_heads(outputs), w.out_proj_weight, w.out_proj_bias)
  throw not_implemented("exercise 05: multi_head_attention");
}

}  // namespace course

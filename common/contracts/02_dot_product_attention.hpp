// Chapter 02 — scaled dot-product attention: the function you write in
// exercises/02_dot_product_attention/dot_product_attention.cpp. The reference is
// solutions/02_dot_product_attention/dot_product_attention.cpp; tests/test_02_dot_product_attention.cpp
// checks both (./course check 02).
#pragma once
#include "contracts/01_tensors.hpp"
#include "npy.hpp"

namespace course {

// What an attention layer returns: the mixed values and the weights that mixed them.
struct AttentionResult {
  Matrix output;   // (L, d_v): row i is a weighted average of the rows of v
  Matrix weights;  // (L, S):   row i says how much query i takes from each key; rows sum to 1
};

// scaled_dot_product_attention — Vaswani et al. (2017), equation (1):
//   Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V
//   q (L, d_k), k (S, d_k), v (S, d_v)  ->  output (L, d_v), weights (L, S)
// Each query (a row of q) is compared with every key (a row of k) by a dot product; dividing by
// sqrt(d_k) keeps the scores' variance near 1 whatever d_k is, so the softmax does not saturate.
// Throws std::invalid_argument when q and k differ in width or k and v differ in length.
// Same as torch.softmax(q @ k.T / math.sqrt(q.shape[-1]), dim=-1) @ v in PyTorch.
AttentionResult scaled_dot_product_attention(const Matrix& q, const Matrix& k, const Matrix& v);

// --- helper (given, not an exercise) --------------------------------------------------------------

// The inputs of attention as PyTorch code names them (chapters 02 and 12 in the README's interop table;
// the conventions are in CONTRIBUTING.md).
struct AttentionInputs {
  Matrix query;  // (L, E)
  Matrix key;    // (S, E)
  Matrix value;  // (S, Ev)
};

// load_attention_inputs — reads DIR/query.npy, key.npy and value.npy and checks that they fit
// together. The shared loader (npy.hpp) has already refused empty arrays (so L, S, E, Ev >= 1), NaN,
// infinities and values above 1e15 in magnitude. Any problem is a usage_error naming the file.
inline AttentionInputs load_attention_inputs(const std::string& dir) {
  AttentionInputs in{load_matrix(dir, "query", "(L, E)"), load_matrix(dir, "key", "(S, E)"),
                     load_matrix(dir, "value", "(S, Ev)")};
  require_shape("key.npy", in.key, {in.key.shape(0), in.query.shape(1)}, "(S, E) with the E of query.npy");
  require_shape("value.npy", in.value, {in.key.shape(0), in.value.shape(1)}, "(S, Ev) with the S of key.npy");
  return in;
}

}  // namespace course

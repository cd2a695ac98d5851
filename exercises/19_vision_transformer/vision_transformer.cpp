// Exercise 19 — A vision transformer.
//
// Fill in the functions below, then run   ./course check 19
// The contract is in chapters/19_vision_transformer/contract.hpp; stuck? ./course hint 19
#include "19_vision_transformer/contract.hpp"

namespace course {

// patches (N, C*P*P), w (C*P*P, E), grad_tokens g (N, E)  ->  g wᵀ, patchesᵀ g, column sums of g
PatchEmbeddingGradients patch_embedding_backward(const Matrix& patches, const Matrix& w,
                                                 const Matrix& grad_tokens) {
  // TODO: 1. throw std::invalid_argument when patches' columns differ from w's rows, or g is not (N, E)
  // TODO: 2. dpatches[n][k] = Σ_e g[n][e] · w[k][e]          (N, C*P*P)
  // TODO: 3. dw[k][e] = Σ_n patches[n][k] · g[n][e]           (C*P*P, E)
  // TODO: 4. db[e] = Σ_n g[n][e]                              (E)
  throw not_implemented("exercise 19: patch_embedding_backward");
}

// weights (n+1, n+1), class token first; patch i at (i / grid_cols, i % grid_cols); P pixels a patch
double mean_attention_distance(const Matrix& weights, std::size_t grid_cols, std::size_t patch) {
  // TODO: 1. throw std::invalid_argument unless weights is square, grid_cols > 0 and divides n = rows − 1
  // TODO: 2. for each patch query q: Σ over patch keys k of a(q, k) · P · ‖(r_q, c_q) − (r_k, c_k)‖,
  //          divided by Σ over patch keys of a(q, k) (row 1 + q, columns 1 + k; 0 if that sum is 0)
  // TODO: 3. return the mean over the n queries
  throw not_implemented("exercise 19: mean_attention_distance");
}

}  // namespace course

// Chapter 19 — a vision transformer: the functions you write in
// exercises/19_vision_transformer/vision_transformer.cpp. The reference is
// chapters/19_vision_transformer/solution/vision_transformer.cpp; chapters/19_vision_transformer/test.cpp checks
// both (./course check 19). Code the course gives for this chapter (not an exercise) is in
// chapters/19_vision_transformer/given.hpp.
#pragma once
#include "tensor.hpp"

namespace course {

// The gradients of chapter 08's patch_embedding, tokens = patches w + b.
struct PatchEmbeddingGradients {
  Matrix patches;  // (N, C*P*P): dL/d patches = g wᵀ
  Matrix w;        // (C*P*P, E): dL/d w = patchesᵀ g
  Vector b;        // (E):        dL/d b = Σ_n g[n]  (b is added to every row)
};

// patch_embedding_backward — the backward of chapter 08's patch_embedding (ViT's linear patch
// embedding, Dosovitskiy et al. 2021, eq. 1; a Conv2d with kernel_size = stride = P):
//   patches (N, C*P*P), w (C*P*P, E), grad_tokens g = dL/d tokens (N, E)
//     ->  dL/d patches = g wᵀ (N, C*P*P),  dL/d w = patchesᵀ g (C*P*P, E),  dL/d b = column sums of g (E)
// Throws std::invalid_argument when the shapes do not fit (patches' columns != w's rows, g not (N, E)).
PatchEmbeddingGradients patch_embedding_backward(const Matrix& patches, const Matrix& w,
                                                 const Matrix& grad_tokens);

// mean_attention_distance — how far one head looks, in pixels (Dosovitskiy et al. 2021, Figure 7 right,
// and appendix D.7: "the average distance in image space across which information is integrated,
// based on the attention weights"):
//   weights (n+1, n+1): one head's attention weights on one image, token 0 the class token and token
//   1 + i the patch i = r * grid_cols + c (chapter 08's order); patch size P in pixels
//   For each patch query q, over the patch keys k only (the class token has no place in the image):
//     d(q) = Σ_k a(q, k) · P · ‖(r_q, c_q) − (r_k, c_k)‖ / Σ_k a(q, k)      (Euclidean, between centres)
//   and the result is the mean of d(q) over the n patch queries. Dividing by Σ_k a(q, k) renormalises
//   the row after leaving out the weight on the class token (a row with no weight on patches gives 0).
// Uniform attention (every weight 1/(n+1)) gives the mean distance between two patches of the grid;
// a head that attends only to its own patch gives 0.
// Throws std::invalid_argument when weights is not square, grid_cols is 0, or grid_cols does not
// divide the n patches.
double mean_attention_distance(const Matrix& weights, std::size_t grid_cols, std::size_t patch);

}  // namespace course

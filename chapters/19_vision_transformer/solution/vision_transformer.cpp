// Chapter 19 — reference solutions (the contract is in chapters/19_vision_transformer/contract.hpp).
#include "19_vision_transformer/contract.hpp"

#include "linalg.hpp"  // product_nt, product_tn

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace course {

// dpatches = g wᵀ,  dw = patchesᵀ g,  db = Σ_n g[n]
// The reference multiplies with common/linalg.hpp's products (OpenBLAS): the course's layers train on
// BLAS. Your matmul is the same math; only the last bits may differ.
PatchEmbeddingGradients patch_embedding_backward(const Matrix& patches, const Matrix& w,
                                                 const Matrix& grad_tokens) {
  const std::size_t N = patches.shape(0), D = patches.shape(1), E = w.shape(1);
  if (w.shape(0) != D || grad_tokens.shape(0) != N || grad_tokens.shape(1) != E) {
    throw std::invalid_argument(
        fmt::format("patch_embedding_backward: patches {}, w {}, grad_tokens {} do not fit",
                    shape_of(patches), shape_of(w), shape_of(grad_tokens)));
  }
  PatchEmbeddingGradients g;
  // 1. tokens = patches w + b: each patch's gradient is g's row times wᵀ
  g.patches = product_nt(grad_tokens, w);
  // 2. w's gradient sums patchᵀ g over the patches
  g.w = product_tn(patches, grad_tokens);
  // 3. b is added to every row: its gradient is the sum of the rows of g
  g.b = xt::zeros<double>({E});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t j = 0; j < E; ++j) g.b(j) += grad_tokens(n, j);
  return g;
}

// mean over patch queries q of Σ_k a(q, k) P ‖pos_q − pos_k‖ / Σ_k a(q, k), keys k over patches only
double mean_attention_distance(const Matrix& weights, std::size_t grid_cols, std::size_t patch) {
  const std::size_t tokens = weights.shape(0);
  if (weights.shape(1) != tokens || tokens < 2 || grid_cols == 0 || (tokens - 1) % grid_cols != 0) {
    throw std::invalid_argument(
        fmt::format("mean_attention_distance: weights {} is not (n+1, n+1) for n patches in rows of {}",
                    shape_of(weights), grid_cols));
  }
  const std::size_t n = tokens - 1;
  double total = 0.0;
  for (std::size_t q = 0; q < n; ++q) {
    // 1. where the query patch is: row and column of the grid
    const double rq = static_cast<double>(q / grid_cols), cq = static_cast<double>(q % grid_cols);
    // 2. the weighted distance to every key patch, and the weight on patches
    double weighted = 0.0, mass = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      const double dr = rq - static_cast<double>(k / grid_cols), dc = cq - static_cast<double>(k % grid_cols);
      const double a = weights(1 + q, 1 + k);
      weighted += a * static_cast<double>(patch) * std::sqrt(dr * dr + dc * dc);
      mass += a;
    }
    // 3. renormalised over the patches (the class token's weight left out)
    if (mass > 0.0) total += weighted / mass;
  }
  return total / static_cast<double>(n);
}

}  // namespace course

// Chapter 05 — given code (declared in chapters/05_multi_head_attention/given.hpp).
#include "05_multi_head_attention/given.hpp"

namespace course {

// uniform in [-1/sqrt(E), 1/sqrt(E)): in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias
MultiHeadWeights random_multi_head_weights(Rng& rng, std::size_t E) {
  const double a = 1.0 / std::sqrt(static_cast<double>(E));
  MultiHeadWeights w;
  w.in_proj_weight = rng.uniform_matrix(3 * E, E, -a, a);
  w.in_proj_bias = xt::view(rng.uniform_matrix(1, 3 * E, -a, a), 0);
  w.out_proj_weight = rng.uniform_matrix(E, E, -a, a);
  w.out_proj_bias = xt::view(rng.uniform_matrix(1, E, -a, a), 0);
  return w;
}

}  // namespace course

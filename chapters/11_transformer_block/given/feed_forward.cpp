// Chapter 11 — given code (declared in chapters/11_transformer_block/given.hpp).
#include "11_transformer_block/given.hpp"

#include <algorithm>

namespace course {

// FF(x) = linear2(relu(linear1(x))):  (n, E) -> (n, F) -> (n, E)
Matrix feed_forward(const Matrix& x, const EncoderLayerWeights& w) {
  Matrix hidden = linear(x, w.linear1_weight, w.linear1_bias);  // (n, F)
  for (double& h : hidden) h = std::max(h, 0.0);                // ReLU
  return linear(hidden, w.linear2_weight, w.linear2_bias);      // (n, E)
}

}  // namespace course

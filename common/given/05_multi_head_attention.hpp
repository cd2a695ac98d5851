// Chapter 05 — given code (not an exercise), defined in given/05_multi_head_attention/ and compiled
// with both the reference and your exercise.
#pragma once
#include "contracts/05_multi_head_attention.hpp"
#include "given/04_masking.hpp"
#include "rng.hpp"

namespace course {

// random_multi_head_weights — torch.nn.MultiheadAttention(E, H)'s parameters drawn like its
// initialisation, every entry uniform in [-a, a) with a = 1 / sqrt(E), biases included:
//   -> in_proj_weight (3E, E), in_proj_bias (3E), out_proj_weight (E, E), out_proj_bias (E)
// drawn from rng in that order, each filled row by row (so the same seed gives the same weights in
// every program and test that draws them at the same point).
MultiHeadWeights random_multi_head_weights(Rng& rng, std::size_t E);

}  // namespace course

// Chapter 05 — given code (not an exercise), defined in chapters/05_multi_head_attention/given/ and compiled
// with both the reference and your exercise.
#pragma once
#include "04_masking/given.hpp"
#include "05_multi_head_attention/contract.hpp"
#include "results.hpp"
#include "rng.hpp"

#include <string>
#include <vector>

namespace course {

// random_multi_head_weights — torch.nn.MultiheadAttention(E, H)'s parameters drawn like its
// initialisation, every entry uniform in [-a, a) with a = 1 / sqrt(E), biases included:
//   -> in_proj_weight (3E, E), in_proj_bias (3E), out_proj_weight (E, E), out_proj_bias (E)
// drawn from rng in that order, each filled row by row (so the same seed gives the same weights in
// every program and test that draws them at the same point).
MultiHeadWeights random_multi_head_weights(Rng& rng, std::size_t E);

// multi_head_weight_files — the four weights under the names of torch.nn.MultiheadAttention's
// state_dict, each prefixed by `prefix` (e.g. "self_attn." in a TransformerEncoderLayer), for --save DIR
// (report_results, results.hpp): in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias.
std::vector<NamedResult> multi_head_weight_files(const MultiHeadWeights& w, const std::string& prefix = "");

}  // namespace course

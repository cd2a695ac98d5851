// Chapter 04 — given code (not an exercise): building masks, and the one-head layer on PyTorch's
// files. The masks are small enough to be given here in full; one_head_layer is defined in
// chapters/04_masking/given/, compiled with both the reference and your exercise, so it runs on whichever
// masked_attention it is linked with. Every mask in the course: true means "may not attend".
#pragma once
#include "01_tensors/given.hpp"
#include "04_masking/contract.hpp"
#include "pytorch.hpp"

namespace course {

// No mask at all: (L, S) of false.
inline BoolMatrix no_mask(std::size_t L, std::size_t S) {
  return xt::zeros<bool>({L, S});
}

// padding_mask — keys that are padding may not be attended by any query.
//   key_padding (S) bool (true = padding, PyTorch's key_padding_mask), L  ->  mask (L, S)
inline BoolMatrix padding_mask(const BoolVector& key_padding, std::size_t L) {
  BoolMatrix mask = xt::zeros<bool>({L, key_padding.size()});
  for (std::size_t i = 0; i < L; ++i)
    for (std::size_t j = 0; j < key_padding.size(); ++j) mask(i, j) = key_padding(j);
  return mask;
}

// Either mask forbids: a | b, elementwise, both (L, S).
inline BoolMatrix combine_masks(const BoolMatrix& a, const BoolMatrix& b) {
  BoolMatrix mask = a;
  for (std::size_t i = 0; i < mask.shape(0); ++i)
    for (std::size_t j = 0; j < mask.shape(1); ++j) mask(i, j) = a(i, j) || b(i, j);
  return mask;
}

// --- torch.nn.MultiheadAttention: chapters 04 and 05 ----------------------------------------------

// The files of torch.nn.MultiheadAttention's forward pass and state_dict, read by chapters 04 and 05
// with --load DIR (listed under 05 in the README's interop table; the conventions are in CONTRIBUTING.md).
struct AttentionLayerFiles {
  Matrix query, key, value;  // (L, E), (S, E), (S, E)
  Matrix in_proj_weight;     // (3E, E)
  Vector in_proj_bias;       // (3E)
  Matrix out_proj_weight;    // (E, E)
  Vector out_proj_bias;      // (E)
  BoolMatrix mask;           // (L, S): attn_mask.npy | key_padding_mask.npy, all false if neither exists
};

// load_attention_layer — reads DIR/{query,key,value,in_proj_weight,in_proj_bias,out_proj.weight,
// out_proj.bias}.npy and the optional bool masks attn_mask.npy (L, S) and key_padding_mask.npy (S),
// checking every shape against L, S and E. The shared loader (npy.hpp) has already refused empty
// arrays (so L, S, E >= 1), NaN, infinities and values above 1e15 in magnitude. Any problem is a
// usage_error naming the file.
AttentionLayerFiles load_attention_layer(const std::string& dir);

// one_head_layer — torch.nn.MultiheadAttention with one head on those files: project the inputs with
// the three (E, E) blocks of in_proj (rows [0, E), [E, 2E), [2E, 3E)), masked_attention, then out_proj.
//   -> output (L, E) after out_proj, weights (L, S)
// A fully masked row has zero weights and a zero attention output, so its output row is out_proj.bias
// (PyTorch 1.13 gives NaN there).
AttentionResult one_head_layer(const AttentionLayerFiles& f);

}  // namespace course

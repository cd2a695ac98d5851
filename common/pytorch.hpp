// PyTorch's files: the loaders of the chapter programs' --load DIR, in one place.
//
// Each reads the .npy files a PyTorch module's forward pass and state_dict are saved as (named after
// the forward arguments and the state_dict keys, with PyTorch's unbatched shapes; the README's "Check
// against PyTorch" has the table, CONTRIBUTING.md the conventions) through the checked loaders of
// npy.hpp, checks that the shapes fit together, and returns them in the course's types. Any problem
// is a usage_error naming the file: bad input, exit code 2. Code that is not an exercise; the
// exercises never read files.
#pragma once
#include "contracts/10_attention_vs_rnn.hpp"
#include "contracts/11_transformer_block.hpp"
#include "npy.hpp"
#include "tensor.hpp"

#include <string>

namespace course {

// --- attention: chapters 02 and 12 ----------------------------------------------------------------

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
AttentionInputs load_attention_inputs(const std::string& dir);

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

// --- torch.nn.RNN: chapter 10 ---------------------------------------------------------------------

// The files of torch.nn.RNN's forward pass and state_dict (the README's interop table; the conventions
// are in CONTRIBUTING.md).
struct RnnFiles {
  Matrix input;  // (L, H_in)
  RnnWeights weights;
  Matrix h0;  // (1, H): h0.npy, or zeros when the file does not exist (PyTorch's default)
};

// load_rnn — reads DIR/input.npy, weight_ih_l0.npy, weight_hh_l0.npy, bias_ih_l0.npy, bias_hh_l0.npy
// and the optional h0.npy, checking every shape against L, H_in and H (from weight_ih_l0). The shared
// loader (npy.hpp) has already refused empty arrays (so L, H_in, H >= 1; PyTorch refuses an empty
// sequence too), NaN, infinities and values above 1e15 in magnitude. Any problem is a usage_error
// naming the file.
RnnFiles load_rnn(const std::string& dir);

// --- torch.nn.TransformerEncoderLayer: chapter 11 -------------------------------------------------

// load_encoder_layer — reads the state_dict of a torch.nn.TransformerEncoderLayer from DIR, one
// .npy file per key (self_attn.in_proj_weight.npy, linear1.weight.npy, norm1.bias.npy, ...), and
// checks every shape against E (from self_attn.in_proj_weight) and F (from linear1.weight). The shared
// loader (npy.hpp) has already refused empty arrays (so E, F >= 1), NaN, infinities and values above
// 1e15 in magnitude. A missing or malformed file, or a shape that does not fit, is a usage_error
// naming the file. With a prefix, the keys are DIR/<prefix><key>.npy: a layer inside a larger model's
// state_dict (chapter 14's "layers.0.", chapter 16's "blocks.0.").
EncoderLayerWeights load_encoder_layer(const std::string& dir, const std::string& prefix = "");

// count_numbered_layers — the number of layers of a torch.nn.ModuleList saved in DIR under PREFIX
// ("blocks." in chapter 16's TinyGPT, "layers." in chapter 14's tiny encoder): the number of distinct
// N among the files DIR/<PREFIX>N.*.npy. The numbers must run 0, 1, ..., count - 1; a gap (blocks.7.*
// beside blocks 0 and 1) is a usage_error naming the layer that is missing. The caller then loads
// every layer whole (load_encoder_layer), so a partial layer is an error naming its missing file,
// never a layer silently skipped.
std::size_t count_numbered_layers(const std::string& dir, const std::string& prefix);

}  // namespace course

// PyTorch's files: the loaders of the chapter programs' --load DIR, in one place.
//
// Each reads the .npy files a PyTorch module's forward pass and state_dict are saved as (named after
// the forward arguments and the state_dict keys, with PyTorch's unbatched shapes; the README's "Check
// against PyTorch" has the table, CONTRIBUTING.md the conventions) through the checked loaders of
// npy.hpp, checks that the shapes fit together, and returns them in the course's types. Any problem
// is a usage_error naming the file: bad input, exit code 2. Code that is not an exercise; the
// exercises never read files.
#pragma once
#include "npy.hpp"
#include "tensor.hpp"

#include <string>

namespace course {

// --- attention: chapters 02, 12 and 13 ----------------------------------------------------------------

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

// --- a torch.nn.ModuleList: chapters 14 and 16 ------------------------------------------------------

// count_numbered_layers — the number of layers of a torch.nn.ModuleList saved in DIR under PREFIX
// ("blocks." in chapter 16's TinyGPT, "layers." in chapter 14's tiny encoder): the number of distinct
// N among the files DIR/<PREFIX>N.*.npy. The numbers must run 0, 1, ..., count - 1; a gap (blocks.7.*
// beside blocks 0 and 1) is a usage_error naming the layer that is missing. The caller then loads
// every layer whole (load_encoder_layer), so a partial layer is an error naming its missing file,
// never a layer silently skipped.
std::size_t count_numbered_layers(const std::string& dir, const std::string& prefix);

}  // namespace course

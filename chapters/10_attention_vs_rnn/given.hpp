// Chapter 10 — given code (not an exercise): torch.nn.RNN's files for --load DIR, read in
// chapters/10_attention_vs_rnn/given/pytorch_files.cpp.
#pragma once
#include "10_attention_vs_rnn/contract.hpp"
#include "pytorch.hpp"

#include <string>

namespace course {

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

}  // namespace course

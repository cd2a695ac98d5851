// PyTorch's files for this chapter's --load DIR (the loaders of all chapters are alike: common/pytorch.hpp
// says how they read and check).
#include "10_attention_vs_rnn/given.hpp"

#include "npy.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <set>

namespace course {

// input (L, H_in), the four state_dict arrays of torch.nn.RNN, h0 (1, H) or zeros
RnnFiles load_rnn(const std::string& dir) {
  RnnFiles f;
  f.input = load_matrix(dir, "input", "(L, H_in)");
  f.weights.weight_ih_l0 = load_matrix(dir, "weight_ih_l0", "(H, H_in)");
  const std::size_t H = f.weights.weight_ih_l0.shape(0), H_in = f.input.shape(1);
  require_shape("weight_ih_l0.npy", f.weights.weight_ih_l0, {H, H_in},
                "(H, H_in) with the H_in of input.npy");
  f.weights.weight_hh_l0 = load_matrix(dir, "weight_hh_l0", "(H, H)");
  require_shape("weight_hh_l0.npy", f.weights.weight_hh_l0, {H, H}, "(H, H)");
  f.weights.bias_ih_l0 = load_vector(dir, "bias_ih_l0", "(H,)");
  require_shape("bias_ih_l0.npy", f.weights.bias_ih_l0, {H}, "(H,)");
  f.weights.bias_hh_l0 = load_vector(dir, "bias_hh_l0", "(H,)");
  require_shape("bias_hh_l0.npy", f.weights.bias_hh_l0, {H}, "(H,)");
  f.h0 = xt::zeros<double>({std::size_t{1}, H});
  if (npy_exists(dir, "h0")) {
    f.h0 = load_matrix(dir, "h0", "(1, H)");
    require_shape("h0.npy", f.h0, {1, H}, "(1, H)");
  }
  return f;
}

}  // namespace course

// Exercise 09 — attention vs CNN.
//
// Fill in the three functions below, then run   ./course check 09
// The contract is in chapters/09_attention_vs_cnn/contract.hpp; stuck? ./course hint 09
#include "09_attention_vs_cnn/contract.hpp"

#include <stdexcept>

namespace course {

// output (C_out, L_out): every output position is a dot product of the kernel with a window of input
Matrix conv1d(const Matrix& input, const Tensor3& weight, const Vector& bias, const ConvSpec& spec) {
  // TODO: 1. check: stride and dilation >= 1, weight.shape(1) == C_in, bias empty or C_out long,
  //          and the dilated kernel dilation*(K-1)+1 fits in the padded length L + 2*padding
  // TODO: 2. L_out = (L + 2*padding - dilation*(K-1) - 1) / stride + 1
  // TODO: 3. output(o, t) = bias(o) + sum over c, j of weight(o, c, j) * input(c, t_in),
  //          t_in = t*stride + j*dilation - padding, skipping t_in outside [0, L) (they are padding
  //          zeros); careful with unsigned arithmetic
  throw not_implemented("exercise 09: conv1d");
}

// output (C_out, H_out, W_out): the same, with a 2-D window
Tensor3 conv2d(const Tensor3& input, const Tensor4& weight, const Vector& bias, const ConvSpec& spec) {
  // TODO: conv1d, with one more loop: rows and columns each slide with the same stride, padding, dilation
  throw not_implemented("exercise 09: conv2d");
}

// K*K heads, head (i, j) attends around the shift (i - K/2, j - K/2) with sharpness alpha
Tensor3 conv_as_attention(const Tensor3& image, const Tensor4& weight, const Vector& bias, double alpha) {
  // TODO: 1. check K odd and square, channels and bias fit, alpha > 0
  // TODO: 2. zero-pad the image by r = K/2 on every side: the padded pixels are the keys
  // TODO: 3. for every query pixel q and every head (i, j) with shift (i - r, j - r):
  //          scores over all padded pixels k: -alpha * |k - q - shift|^2, softmax (subtract the max!),
  //          mix the key pixels' channels with those weights, multiply by weight(:, :, i, j), add up the
  //          heads
  // TODO: 4. add the bias
  throw not_implemented("exercise 09: conv_as_attention");
}

}  // namespace course

// Chapter 09 — attention vs CNN: the functions you write in
// exercises/09_attention_vs_cnn/attention_vs_cnn.cpp. The reference is
// chapters/09_attention_vs_cnn/solution/attention_vs_cnn.cpp; chapters/09_attention_vs_cnn/test.cpp checks both
// (./course check 09).
#pragma once
#include "tensor.hpp"

namespace course {

// How a convolution slides: as torch.nn.functional.conv1d / conv2d (one value for every axis).
struct ConvSpec {
  std::size_t stride = 1;    // step between outputs (>= 1)
  std::size_t padding = 0;   // zeros added on both sides of every spatial axis
  std::size_t dilation = 1;  // gap between kernel taps (>= 1)
};

// conv1d — torch.nn.functional.conv1d(input, weight, bias, stride, padding, dilation), unbatched:
//   input (C_in, L), weight (C_out, C_in, K), bias (C_out) or empty  ->  output (C_out, L_out)
//   output[o][t] = bias[o] + sum over c, j of weight[o][c][j] * x[c][t*stride + j*dilation - padding]
//   (x is 0 outside [0, L)),  L_out = (L + 2*padding - dilation*(K-1) - 1) / stride + 1  (rounded down)
// Throws std::invalid_argument when stride or dilation is 0, channels or bias do not fit, or the
// dilated kernel is larger than the padded input (L_out would be below 1).
Matrix conv1d(const Matrix& input, const Tensor3& weight, const Vector& bias, const ConvSpec& spec);

// conv2d — torch.nn.functional.conv2d, unbatched, the same spec on both axes:
//   input (C_in, H, W), weight (C_out, C_in, KH, KW), bias (C_out) or empty  ->  (C_out, H_out, W_out)
//   output[o][y][x] = bias[o] + sum over c, i, j of weight[o][c][i][j] * in[c][y_in][x_in],
//     y_in = y*stride + i*dilation - padding,   x_in = x*stride + j*dilation - padding
//   (in is 0 outside the image)
// Same errors as conv1d.
Tensor3 conv2d(const Tensor3& input, const Tensor4& weight, const Vector& bias, const ConvSpec& spec);

// conv_as_attention — Cordonnier, Loukas & Jaggi (2020), "On the relationship between
// self-attention and convolutional layers", Theorem 1: multi-head self-attention with K*K heads and
// quadratic relative-position scores computes a K x K convolution (stride 1, padding K/2).
//   image (C_in, H, W), weight (C_out, C_in, K, K) with K odd, bias (C_out) or empty, alpha > 0
//     ->  (C_out, H, W)
//   Head h has a shift Delta_h = (i - K/2, j - K/2) for kernel tap (i, j). Query pixel q attends to
//   every pixel k of the zero-padded image (padding K/2) with the score -alpha * |k - q - Delta_h|^2,
//   softmax over k; so head h looks mostly at pixel q + Delta_h, and only there as alpha grows.
//   The head's value projection is the tap's weight matrix weight[:, :, i, j] (C_out x C_in):
//     output[:, q] = bias + sum over heads h of weight[:, :, i_h, j_h] (sum over k of A_h(q, k) padded[:, k])
// As alpha grows the result tends to conv2d(image, weight, bias, {1, K/2, 1}).
// Throws std::invalid_argument when K is even, the kernel is not square, shapes do not fit, or alpha <= 0.
Tensor3 conv_as_attention(const Tensor3& image, const Tensor4& weight, const Vector& bias, double alpha);

}  // namespace course

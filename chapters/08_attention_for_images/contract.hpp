// Chapter 08 — attention for images: the functions you write in
// exercises/08_attention_for_images/attention_for_images.cpp. The reference is
// chapters/08_attention_for_images/solution/attention_for_images.cpp; chapters/08_attention_for_images/test.cpp checks
// both (./course check 08). Code the course gives for this chapter (not an exercise) is in
// chapters/08_attention_for_images/given.hpp.
#pragma once
#include "tensor.hpp"

namespace course {

// image_to_patches — cut an image into non-overlapping P x P patches and flatten each one (ViT,
// Dosovitskiy et al. 2021, section 3.1).
//   image (C, H, W) channels first as in PyTorch, P  ->  patches (N, C*P*P),  N = (H/P) * (W/P)
//   Patch n = r * (W/P) + c covers rows [r*P, (r+1)*P) and columns [c*P, (c+1)*P); inside it the
//   values are flattened in the order (channel, y, x):
//     patches[n][ch*P*P + dy*P + dx] = image[ch][r*P + dy][c*P + dx]
//   This is the order of torch.nn.Conv2d(C, D, kernel_size=P, stride=P).weight.reshape(D, -1).
// Throws std::invalid_argument if P is 0 or does not divide both H and W.
Matrix image_to_patches(const Tensor3& image, std::size_t patch);

// patch_embedding — the linear patch embedding of ViT:
//   patches (N, C*P*P), w (C*P*P, d_model), b (d_model)  ->  tokens (N, d_model) = patches w + b
// The same numbers as a Conv2d with kernel_size = stride = P whose weight, reshaped to (D, C*P*P),
// is w transposed. Throws std::invalid_argument when the shapes do not fit.
Matrix patch_embedding(const Matrix& patches, const Matrix& w, const Vector& b);

}  // namespace course

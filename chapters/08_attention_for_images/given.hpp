// Chapter 08 — given code (not an exercise), defined in chapters/08_attention_for_images/given/ and compiled
// with both the reference and your exercise.
#pragma once
#include "08_attention_for_images/contract.hpp"

namespace course {

// image_to_tokens — an image as a set of vectors: one token per pixel holding its C channels.
//   image (C, H, W)  ->  tokens (H*W, C),  tokens[y*W + x][ch] = image[ch][y][x]
// (image_to_patches with P = 1 gives the same matrix.)
Matrix image_to_tokens(const Tensor3& image);

}  // namespace course

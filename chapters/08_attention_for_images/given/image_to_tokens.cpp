// Chapter 08 — given code (declared in chapters/08_attention_for_images/given.hpp).
#include "08_attention_for_images/given.hpp"

namespace course {

// image (C, H, W) -> tokens (H*W, C), pixel (y, x) is token y*W + x
Matrix image_to_tokens(const Tensor3& image) {
  const std::size_t C = image.shape(0), H = image.shape(1), W = image.shape(2);
  Matrix tokens = Matrix::from_shape({H * W, C});
  for (std::size_t y = 0; y < H; ++y)
    for (std::size_t x = 0; x < W; ++x)
      for (std::size_t ch = 0; ch < C; ++ch) tokens(y * W + x, ch) = image(ch, y, x);
  return tokens;
}

}  // namespace course

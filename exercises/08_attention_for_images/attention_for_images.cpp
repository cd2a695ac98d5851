// Exercise 08 — attention for images.
//
// Fill in the two functions below, then run   ./course check 08
// The contract is in chapters/08_attention_for_images/contract.hpp; stuck? ./course hint 08
// matmul (chapter 01) is yours to use.
#include "08_attention_for_images/contract.hpp"

#include "01_tensors/contract.hpp"

#include <stdexcept>

namespace course {

// image (C, H, W) -> patches (N, C*P*P), patch n = r * (W/P) + c, inner order (channel, y, x)
Matrix image_to_patches(const Tensor3& image, std::size_t patch) {
  // TODO: 1. C, H, W = image.shape(0), image.shape(1), image.shape(2); throw std::invalid_argument
  //          if patch is 0 or does not divide H and W
  // TODO: 2. patches = an (N, C*P*P) matrix, N = (H/P) * (W/P)
  // TODO: 3. for each patch (r, c), channel ch and offset (dy, dx) inside the patch:
  //          patches(r * (W/P) + c, ch*P*P + dy*P + dx) = image(ch, r*P + dy, c*P + dx)
  throw not_implemented("exercise 08: image_to_patches");
}

// tokens (N, d_model) = patches (N, C*P*P) w (C*P*P, d_model) + b (d_model)
Matrix patch_embedding(const Matrix& patches, const Matrix& w, const Vector& b) {
  // TODO: 1. throw std::invalid_argument unless patches.shape(1) == w.shape(0) and b.size() == w.shape(1)
  // TODO: 2. tokens = patches w, then add b to every row
  throw not_implemented("exercise 08: patch_embedding");
}

}  // namespace course

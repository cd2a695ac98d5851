// Chapter 08 — reference solutions (the contract is in chapters/08_attention_for_images/contract.hpp).
#include "08_attention_for_images/contract.hpp"

#include "linalg.hpp"  // product

#include <fmt/format.h>

#include <stdexcept>

namespace course {

// image (C, H, W) -> patches (N, C*P*P), patch n = r * (W/P) + c, inner order (channel, y, x)
Matrix image_to_patches(const Tensor3& image, std::size_t patch) {
  const std::size_t C = image.shape(0), H = image.shape(1), W = image.shape(2), P = patch;
  if (P == 0 || H % P != 0 || W % P != 0) {
    throw std::invalid_argument(
        fmt::format("image_to_patches: patch size {} does not divide the {} x {} image", P, H, W));
  }
  const std::size_t rows = H / P, cols = W / P;
  Matrix patches = Matrix::from_shape({rows * cols, C * P * P});
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c)
      for (std::size_t ch = 0; ch < C; ++ch)
        for (std::size_t dy = 0; dy < P; ++dy)
          for (std::size_t dx = 0; dx < P; ++dx)
            patches(r * cols + c, ch * P * P + dy * P + dx) = image(ch, r * P + dy, c * P + dx);
  return patches;
}

// tokens (N, d_model) = patches (N, C*P*P) w (C*P*P, d_model) + b (d_model)
// The reference multiplies with product (common/linalg.hpp, OpenBLAS's dgemm), not matmul: the
// course's own layers run on BLAS. Your matmul is the same math; only the order of the additions, so
// the last bits, may differ.
Matrix patch_embedding(const Matrix& patches, const Matrix& w, const Vector& b) {
  if (patches.shape(1) != w.shape(0) || b.size() != w.shape(1)) {
    throw std::invalid_argument(fmt::format("patch_embedding: patches {}, w {}, b {} do not fit",
                                            shape_of(patches), shape_of(w), shape_of(b)));
  }
  Matrix tokens = product(patches, w);
  for (std::size_t n = 0; n < tokens.shape(0); ++n)
    for (std::size_t j = 0; j < tokens.shape(1); ++j) tokens(n, j) += b(j);
  return tokens;
}

}  // namespace course

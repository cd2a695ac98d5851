// PLACEHOLDER — chapter 08's tests are being written.
#include "contracts/08_attention_for_images.hpp"
#include "test_util.hpp"
using namespace course;
TEST_CASE("08 placeholder: 2x2 patches of a 1x2x4 image") {
  Tensor3 image = Tensor3::from_shape({1, 2, 4});
  for (std::size_t k = 0; k < 8; ++k) image.data()[k] = double(k);
  // patch 0 = rows 0-1, cols 0-1: 0 1 4 5; patch 1 = cols 2-3: 2 3 6 7
  CHECK_CLOSE(image_to_patches(image, 2), Matrix({{0, 1, 4, 5}, {2, 3, 6, 7}}), 0.0);
  CHECK_CLOSE(patch_embedding(Matrix({{1, 2}}), Matrix({{1}, {1}}), Vector({0.5})), Matrix({{3.5}}), 0.0);
}

// Chapter 08 — tests of image_to_patches and patch_embedding, run against the reference and against
// your exercise (./course check 08): patch order worked by hand, shapes, the round trip back to the
// image, and ViT's patch embedding as PyTorch's Conv2d(kernel_size = stride = P) (fixtures by
// chapters/08_attention_for_images/make_fixtures.py) to 1e-9.
#include "08_attention_for_images/given.hpp"
#include "npy.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <stdexcept>

using namespace course;

namespace {
// Conv2d weight (D, C, P, P) -> the (C*P*P, D) matrix of patch_embedding: w[(ch, dy, dx)][d]
Matrix conv_weight_as_matrix(const Tensor4& weight) {
  const std::size_t D = weight.shape(0), C = weight.shape(1), P = weight.shape(2);
  Matrix w = Matrix::from_shape({C * P * P, D});
  for (std::size_t d = 0; d < D; ++d)
    for (std::size_t ch = 0; ch < C; ++ch)
      for (std::size_t dy = 0; dy < P; ++dy)
        for (std::size_t dx = 0; dx < P; ++dx) w(ch * P * P + dy * P + dx, d) = weight(d, ch, dy, dx);
  return w;
}

Tensor3 random_image(Rng& rng, std::size_t C, std::size_t H, std::size_t W) {
  Tensor3 image = Tensor3::from_shape({C, H, W});
  for (double& v : image) v = rng.normal();
  return image;
}
}  // namespace

TEST_SUITE("08 attention for images") {
  TEST_CASE("image_to_patches worked by hand: one channel, 2 x 4 pixels, patches of 2") {
    // image[0] = [[1 2 3 4], [5 6 7 8]]: patch 0 is the left 2 x 2 block, patch 1 the right one,
    // each flattened row by row.
    const Tensor3 image = {{{1, 2, 3, 4}, {5, 6, 7, 8}}};
    CHECK_CLOSE(image_to_patches(image, 2), Matrix({{1, 2, 5, 6}, {3, 4, 7, 8}}), 0.0);
  }

  TEST_CASE("image_to_patches: channels first inside a patch, patches in row-major order") {
    // 2 channels of 2 x 2, one patch of 2: [channel 0 row by row, then channel 1]
    const Tensor3 image = {{{1, 2}, {3, 4}}, {{10, 20}, {30, 40}}};
    CHECK_CLOSE(image_to_patches(image, 2), Matrix({{1, 2, 3, 4, 10, 20, 30, 40}}), 0.0);
    // 1 channel 4 x 4 with patches of 2: patch 1 is the top right block, patch 2 the bottom left
    Tensor3 grid = Tensor3::from_shape({1, 4, 4});
    for (std::size_t y = 0; y < 4; ++y)
      for (std::size_t x = 0; x < 4; ++x) grid(0, y, x) = 10.0 * y + x;
    const Matrix p = image_to_patches(grid, 2);
    CHECK_CLOSE(Matrix(xt::view(p, xt::range(1, 3), xt::all())), Matrix({{2, 3, 12, 13}, {20, 21, 30, 31}}),
                0.0);
  }

  TEST_CASE("a 5 x 10 RGB picture with patches of 5 is 2 tokens of 75; of 1, 50 tokens of 3") {
    Rng rng(1);
    const Tensor3 image = random_image(rng, 3, 5, 10);
    REQUIRE_SHAPE(image_to_patches(image, 5), {2, 75});
    const Matrix pixels = image_to_patches(image, 1);
    REQUIRE_SHAPE(pixels, {50, 3});
    CHECK_CLOSE(pixels, image_to_tokens(image), 0.0);  // patches of one pixel are the pixels
  }

  TEST_CASE("every pixel lands in exactly one patch: putting the patches back gives the image") {
    Rng rng(2);
    const std::size_t C = 3, H = 6, W = 9, P = 3;
    const Tensor3 image = random_image(rng, C, H, W);
    const Matrix patches = image_to_patches(image, P);
    Tensor3 back = xt::zeros<double>({C, H, W});
    for (std::size_t n = 0; n < patches.shape(0); ++n) {
      const std::size_t r = n / (W / P), c = n % (W / P);
      for (std::size_t ch = 0; ch < C; ++ch)
        for (std::size_t dy = 0; dy < P; ++dy)
          for (std::size_t dx = 0; dx < P; ++dx)
            back(ch, r * P + dy, c * P + dx) = patches(n, ch * P * P + dy * P + dx);
    }
    CHECK_CLOSE(back, image, 0.0);
  }

  TEST_CASE("image_to_patches refuses patch sizes that do not divide the image, and 0") {
    const Tensor3 image = xt::zeros<double>({3, 6, 8});
    CHECK_THROWS_AS(image_to_patches(image, 4), std::invalid_argument);  // 4 does not divide 6
    CHECK_THROWS_AS(image_to_patches(image, 0), std::invalid_argument);
    // the width is checked too, not only the height: 4 divides H = 8 but not W = 6
    const Tensor3 wide = xt::zeros<double>({3, 8, 6});
    CHECK_THROWS_AS(image_to_patches(wide, 4), std::invalid_argument);
  }

  TEST_CASE("patch_embedding worked by hand: patches w + b") {
    const Matrix patches = {{1, 2}, {3, 4}, {0, 1}};
    const Matrix w = {{1, 0, 2}, {0, 1, -1}};
    const Vector b = {0.5, 0, 1};
    CHECK_CLOSE(patch_embedding(patches, w, b), Matrix({{1.5, 2, 1}, {3.5, 4, 3}, {0.5, 1, 0}}), 0.0);
  }

  TEST_CASE("patch_embedding refuses shapes that do not fit") {
    CHECK_THROWS_AS(patch_embedding(xt::zeros<double>({4, 12}), xt::zeros<double>({10, 5}),
                                    Vector(xt::zeros<double>({5}))),
                    std::invalid_argument);
    CHECK_THROWS_AS(patch_embedding(xt::zeros<double>({4, 12}), xt::zeros<double>({12, 5}),
                                    Vector(xt::zeros<double>({4}))),
                    std::invalid_argument);
  }

  TEST_CASE("the patch embedding is PyTorch's Conv2d with kernel_size = stride = P") {
    for (const std::string name : {"rgb_8x8_patch_4", "rgb_6x9_patch_3", "two_channels_4x4_patch_2"}) {
      CAPTURE(name);
      const std::string dir = std::string(COURSE_CHAPTERS_DIR) + "/08_attention_for_images/fixtures/" + name;
      const Tensor3 image = load_tensor3(dir, "image", "(C, H, W)");
      const Tensor4 weight = load_tensor4(dir, "weight", "(D, C, P, P)");
      const Vector bias = load_vector(dir, "bias", "(D,)");
      const Matrix tokens =
          patch_embedding(image_to_patches(image, weight.shape(2)), conv_weight_as_matrix(weight), bias);
      CHECK_CLOSE(tokens, load_matrix(dir, "tokens", "(N, D)"), 1e-9);
    }
  }
}

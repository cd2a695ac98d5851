// PLACEHOLDER — chapter 09's tests are being written.
#include "contracts/09_attention_vs_cnn.hpp"
#include "rng.hpp"
#include "test_util.hpp"
using namespace course;
TEST_CASE("09 placeholder: conv1d by hand and conv as attention with a sharp alpha") {
  Tensor3 w = Tensor3::from_shape({1, 1, 2});
  w(0, 0, 0) = 1;
  w(0, 0, 1) = -1;
  CHECK_CLOSE(conv1d(Matrix({{1, 4, 9}}), w, Vector(), ConvSpec{}), Matrix({{-3, -5}}), 0.0);
  Rng rng(1);
  Tensor3 image = Tensor3::from_shape({2, 4, 5});
  for (auto& x : image) x = rng.uniform(-1, 1);
  Tensor4 k = Tensor4::from_shape({3, 2, 3, 3});
  for (auto& x : k) x = rng.uniform(-1, 1);
  const Vector b = {0.1, 0.2, 0.3};
  const Tensor3 conv = conv2d(image, k, b, ConvSpec{1, 1, 1});
  CHECK_CLOSE(conv_as_attention(image, k, b, 40.0), conv, 1e-12);
  CHECK(max_abs_diff(conv_as_attention(image, k, b, 1.0), conv) > 1e-3);
}

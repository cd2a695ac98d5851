// Chapter 09 — tests of conv1d, conv2d and conv_as_attention, run against the reference and against
// your exercise (./course check 09): convolutions worked by hand, PyTorch's conv1d / conv2d with
// stride, padding and dilation (fixtures by chapters/09_attention_vs_cnn/make_fixtures.py) to 1e-9, and the Cordonnier
// et al. construction converging to the convolution as alpha grows.
#include "09_attention_vs_cnn/contract.hpp"
#include "npy.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <stdexcept>

using namespace course;

namespace {
const std::string fixtures = std::string(COURSE_CHAPTERS_DIR) + "/09_attention_vs_cnn/fixtures/";
const Vector no_bias = Vector::from_shape({0});

// args.txt holds "--stride S --padding P --dilation D"
ConvSpec spec_of(const std::string& dir) {
  const test::FixtureArgs args = test::fixture_args(dir);
  ConvSpec spec;
  spec.stride = args.count("--stride");
  spec.padding = args.count("--padding");
  spec.dilation = args.count("--dilation");
  return spec;
}

Vector bias_of(const std::string& dir) {
  return npy_exists(dir, "bias") ? load_vector(dir, "bias", "(C_out,)") : no_bias;
}

Tensor3 random_tensor3(Rng& rng, std::size_t a, std::size_t b, std::size_t c) {
  Tensor3 t = Tensor3::from_shape({a, b, c});
  for (double& v : t) v = rng.normal();
  return t;
}
Tensor4 random_tensor4(Rng& rng, std::size_t a, std::size_t b, std::size_t c, std::size_t d) {
  Tensor4 t = Tensor4::from_shape({a, b, c, d});
  for (double& v : t) v = rng.normal();
  return t;
}
}  // namespace

TEST_SUITE("09 attention vs CNN") {
  TEST_CASE("conv1d worked by hand: the kernel [1 0 -1] takes differences two apart") {
    const Matrix x = {{1, 2, 3, 4}};
    const Tensor3 w = {{{1, 0, -1}}};
    // x[t] - x[t+2]: [1 - 3, 2 - 4]
    CHECK_CLOSE(conv1d(x, w, no_bias, {}), Matrix({{-2, -2}}), 0.0);
    // padding 1: [0 1 2 3 4 0] -> [0 - 2, 1 - 3, 2 - 4, 3 - 0]
    CHECK_CLOSE(conv1d(x, w, no_bias, {1, 1, 1}), Matrix({{-2, -2, -2, 3}}), 0.0);
    // bias 10
    CHECK_CLOSE(conv1d(x, w, Vector({10.0}), {}), Matrix({{8, 8}}), 0.0);
  }

  TEST_CASE("conv1d worked by hand: stride 2 and dilation 2") {
    const Matrix x = {{1, 2, 3, 4, 5, 6, 7}};
    const Tensor3 w = {{{1, 1}}};
    // stride 2: windows [1 2], [3 4], [5 6] -> 3, 7, 11
    CHECK_CLOSE(conv1d(x, w, no_bias, {2, 0, 1}), Matrix({{3, 7, 11}}), 0.0);
    // dilation 2: taps two apart, x[t] + x[t+2]: 4, 6, 8, 10, 12
    CHECK_CLOSE(conv1d(x, w, no_bias, {1, 0, 2}), Matrix({{4, 6, 8, 10, 12}}), 0.0);
  }

  TEST_CASE("conv2d worked by hand: a 2 x 2 kernel over two channels") {
    // channel 0 = [[1 2 3] [4 5 6] [7 8 9]], channel 1 all ones; kernel: sum of the 2 x 2 window of
    // channel 0 plus 10 x the top-left pixel of channel 1
    const Tensor3 x = {{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}, {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}}};
    const Tensor4 w = {{{{1, 1}, {1, 1}}, {{10, 0}, {0, 0}}}};
    const Tensor3 expected = {{{12 + 10, 16 + 10}, {24 + 10, 28 + 10}}};
    CHECK_CLOSE(conv2d(x, w, no_bias, {}), expected, 0.0);
  }

  TEST_CASE("conv1d matches PyTorch: plain, stride and padding, dilation without bias") {
    for (const std::string name : {"conv1d_plain", "conv1d_stride_padding", "conv1d_dilation_no_bias"}) {
      CAPTURE(name);
      const std::string dir = fixtures + name;
      const Matrix out = conv1d(load_matrix(dir, "input", "(C_in, L)"),
                                load_tensor3(dir, "weight", "(C_out, C_in, K)"), bias_of(dir), spec_of(dir));
      CHECK_CLOSE(out, load_matrix(dir, "output", "(C_out, L_out)"), 1e-9);
    }
  }

  TEST_CASE("conv2d matches PyTorch: plain, stride and padding, dilation, 1 x 1 without bias") {
    for (const std::string name :
         {"conv2d_plain", "conv2d_stride_padding", "conv2d_dilation", "conv2d_1x1_no_bias"}) {
      CAPTURE(name);
      const std::string dir = fixtures + name;
      const Tensor3 out =
          conv2d(load_tensor3(dir, "input", "(C_in, H, W)"),
                 load_tensor4(dir, "weight", "(C_out, C_in, KH, KW)"), bias_of(dir), spec_of(dir));
      CHECK_CLOSE(out, load_tensor3(dir, "output", "(C_out, H_out, W_out)"), 1e-9);
    }
  }

  TEST_CASE("convolutions refuse stride 0, kernels larger than the padded input and channels that differ") {
    const Matrix x = xt::zeros<double>({2, 4});
    const Tensor3 w = xt::zeros<double>({1, 2, 3});
    CHECK_THROWS_AS(conv1d(x, w, no_bias, {0, 0, 1}), std::invalid_argument);
    CHECK_THROWS_AS(conv1d(x, w, no_bias, {1, 0, 0}), std::invalid_argument);
    CHECK_THROWS_AS(conv1d(x, xt::zeros<double>({1, 2, 5}), no_bias, {}), std::invalid_argument);
    CHECK_THROWS_AS(conv1d(x, xt::zeros<double>({1, 3, 3}), no_bias, {}), std::invalid_argument);
    CHECK_THROWS_AS(conv1d(x, w, Vector({1.0, 2.0}), {}), std::invalid_argument);
    CHECK_THROWS_AS(conv2d(xt::zeros<double>({1, 3, 3}), xt::zeros<double>({1, 1, 4, 4}), no_bias, {}),
                    std::invalid_argument);
    CHECK_THROWS_AS(conv2d(xt::zeros<double>({1, 3, 3}), xt::zeros<double>({1, 1, 2, 2}), no_bias, {0, 0, 1}),
                    std::invalid_argument);
  }

  TEST_CASE("conv2d refuses a bias that is neither empty nor C_out long") {
    // C_out = 2: a bias of 1 or 3 entries does not fit (2 and none do)
    const Tensor3 x = xt::zeros<double>({1, 3, 3});
    const Tensor4 w = xt::zeros<double>({2, 1, 2, 2});
    REQUIRE_SHAPE(conv2d(x, w, Vector({1.0, 2.0}), {}), {2, 2, 2});
    CHECK_THROWS_AS(conv2d(x, w, Vector({1.0}), {}), std::invalid_argument);
    CHECK_THROWS_AS(conv2d(x, w, Vector({1.0, 2.0, 3.0}), {}), std::invalid_argument);
  }

  TEST_CASE("conv_as_attention: the error against conv2d shrinks as alpha grows and is tiny at alpha 40") {
    Rng rng(9);
    const Tensor3 image = random_tensor3(rng, 2, 5, 6);
    const Tensor4 weight = random_tensor4(rng, 3, 2, 3, 3);
    const Vector bias = {0.5, -1.0, 2.0};
    const Tensor3 conv = conv2d(image, weight, bias, {1, 1, 1});
    double previous = INFINITY;
    for (double alpha : {0.5, 1.0, 2.0, 5.0, 10.0}) {
      CAPTURE(alpha);
      const double error = max_abs_diff(conv_as_attention(image, weight, bias, alpha), conv);
      CHECK(error < previous);
      previous = error;
    }
    // the nearest wrong pixel gets weight about e^-alpha relative to the right one
    CHECK_CLOSE(conv_as_attention(image, weight, bias, 40.0), conv, 1e-12);
  }

  TEST_CASE("conv_as_attention with a 5 x 5 kernel: 25 heads, padding 2, at alpha 40 the convolution") {
    // r = K / 2 = 2: shifts -2..2 on each axis and two rows and columns of padding zeros. (K = 1 and
    // K = 3 cannot tell K / 2 from K / 3; K = 5 can.)
    Rng rng(13);
    const Tensor3 image = random_tensor3(rng, 2, 6, 7);
    const Tensor4 weight = random_tensor4(rng, 2, 2, 5, 5);
    const Vector bias = {0.25, -0.75};
    const Tensor3 conv = conv2d(image, weight, bias, {1, 2, 1});
    CHECK_CLOSE(conv_as_attention(image, weight, bias, 40.0), conv, 1e-12);
  }

  TEST_CASE("conv_as_attention with a 1 x 1 kernel is one head and at alpha 50 the 1 x 1 convolution") {
    // K = 1: one head, shift (0, 0). Every other pixel is at distance >= 1, so weights are tiny for
    // large alpha; at alpha 50 the result is the 1 x 1 convolution.
    Rng rng(10);
    const Tensor3 image = random_tensor3(rng, 3, 4, 4);
    const Tensor4 weight = random_tensor4(rng, 2, 3, 1, 1);
    CHECK_CLOSE(conv_as_attention(image, weight, no_bias, 50.0), conv2d(image, weight, no_bias, {}), 1e-12);
  }

  TEST_CASE("conv_as_attention refuses even or non-square kernels, channels that differ and alpha <= 0") {
    const Tensor3 image = xt::zeros<double>({1, 4, 4});
    CHECK_THROWS_AS(conv_as_attention(image, xt::zeros<double>({1, 1, 2, 2}), no_bias, 1.0),
                    std::invalid_argument);
    CHECK_THROWS_AS(conv_as_attention(image, xt::zeros<double>({1, 1, 3, 1}), no_bias, 1.0),
                    std::invalid_argument);
    CHECK_THROWS_AS(conv_as_attention(image, xt::zeros<double>({1, 2, 3, 3}), no_bias, 1.0),
                    std::invalid_argument);
    CHECK_THROWS_AS(conv_as_attention(image, xt::zeros<double>({2, 1, 3, 3}), Vector({1.0}), 1.0),
                    std::invalid_argument);
    CHECK_THROWS_AS(conv_as_attention(image, xt::zeros<double>({1, 1, 3, 3}), no_bias, 0.0),
                    std::invalid_argument);
  }

  TEST_CASE("conv_as_attention at a tiny alpha: every head averages the whole zero-padded image") {
    // alpha -> 0 makes every score 0, so each head's softmax is uniform over the (H + 2)(W + 2) pixels
    // of the padded image, padding zeros included: every output pixel is
    //   bias + (sum of the 9 taps) * (sum of the image) / ((H + 2)(W + 2)).
    // Image 1 x 2 x 3 holding 1..6 (sum 21), padded to 4 x 5 = 20 pixels; taps all 0.5 (sum 4.5), bias 1:
    //   1 + 4.5 * 21 / 20 = 5.725 everywhere. (Without the padding zeros as keys it would be
    //   1 + 4.5 * 21 / 6 = 16.75.)
    const Tensor3 image = {{{1, 2, 3}, {4, 5, 6}}};
    const Tensor4 weight = xt::full_like(Tensor4::from_shape({1, 1, 3, 3}), 0.5);
    const Tensor3 expected = xt::full_like(Tensor3::from_shape({1, 2, 3}), 5.725);
    CHECK_CLOSE(conv_as_attention(image, weight, Vector({1.0}), 1e-12), expected, 1e-9);
  }

  TEST_CASE("conv_as_attention on the border: a corner pixel's heads that point outside read zeros") {
    // One channel, a single 1 at the top-left corner, a kernel that is 1 at the top-left tap only
    // (head Delta = (-1, -1)). conv2d with padding 1 gives output(y, x) = image(y - 1, x - 1): a 1 at
    // (1, 1) and 0 elsewhere, including at the corner, whose target (-1, -1) is a padding zero.
    Tensor3 image = xt::zeros<double>({1, 3, 3});
    image(0, 0, 0) = 1.0;
    Tensor4 weight = xt::zeros<double>({1, 1, 3, 3});
    weight(0, 0, 0, 0) = 1.0;
    Tensor3 expected = xt::zeros<double>({1, 3, 3});
    expected(0, 1, 1) = 1.0;
    CHECK_CLOSE(conv_as_attention(image, weight, no_bias, 40.0), expected, 1e-12);
  }

  TEST_CASE("conv2d with one row equals conv1d") {
    // an image of height 1 and a (1, K) kernel slide exactly like conv1d along the width
    Rng rng(11);
    const Tensor3 image = random_tensor3(rng, 2, 1, 9);
    const Tensor4 weight = random_tensor4(rng, 3, 2, 1, 3);
    const Vector bias = {1.0, 2.0, 3.0};
    const Matrix x = xt::view(image, xt::all(), 0, xt::all());
    const Tensor3 w = xt::view(weight, xt::all(), xt::all(), 0, xt::all());
    const ConvSpec spec{2, 0, 2};  // padding 0: with padding, conv2d would also pad the single row
    const Matrix row = xt::view(conv2d(image, weight, bias, spec), xt::all(), 0, xt::all());
    CHECK_CLOSE(row, conv1d(x, w, bias, spec), 1e-12);
  }

  TEST_CASE("conv1d is translation-equivariant: shift the input, the output shifts the same way") {
    // padding 0, stride 1: output(t) reads x(t .. t + K - 1), so dropping the first input drops the
    // first output and changes nothing else
    Rng rng(12);
    const Matrix x = rng.normal_matrix(2, 10);
    const Tensor3 w = random_tensor3(rng, 1, 2, 3);
    const Matrix full = conv1d(x, w, no_bias, {});
    const Matrix shifted = conv1d(Matrix(xt::view(x, xt::all(), xt::range(1, 10))), w, no_bias, {});
    CHECK_CLOSE(shifted, Matrix(xt::view(full, xt::all(), xt::range(1, 8))), 1e-12);
  }
}

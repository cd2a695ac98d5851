// Chapter 11 — tests of layer_norm and encoder_layer, run against the reference and against your
// exercise (./course check 11): numbers worked out by hand, invariants, and PyTorch's
// TransformerEncoderLayer (fixtures made by chapters/11_transformer_block/make_fixtures.py) to 1e-9.
#include "11_transformer_block/given.hpp"
#include "pytorch.hpp"
#include "rng.hpp"
#include "test_util.hpp"

using namespace course;

namespace {
const std::string fixtures = std::string(COURSE_CHAPTERS_DIR) + "/11_transformer_block/fixtures/";

// A layer of random weights scaled like PyTorch's init, with LayerNorm vectors far from 1 and 0.
const NormInit kNorms{0.5, 1.5, -0.5, 0.5};
}  // namespace

TEST_SUITE("11 transformer block") {
  TEST_CASE("layer_norm: the row [1 2 3 4] worked by hand") {
    // mean 2.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25, sqrt(1.25) = 1.1180339887498949
    const Matrix y = layer_norm(Matrix({{1, 2, 3, 4}}), Vector({1, 1, 1, 1}), Vector({0, 0, 0, 0}), 0.0);
    const double s = 1.1180339887498949;
    CHECK_CLOSE(y, Matrix({{-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s}}), 1e-15);
  }

  TEST_CASE("layer_norm: the variance divides by E and not E - 1") {
    // [0 2]: mean 1, biased variance 1, so [-1 1]; dividing by E - 1 would give variance 2 and +-0.7071
    const Matrix y = layer_norm(Matrix({{0, 2}}), Vector({1, 1}), Vector({0, 0}), 0.0);
    CHECK_CLOSE(y, Matrix({{-1.0, 1.0}}), 1e-15);
  }

  TEST_CASE("layer_norm: gamma scales and beta shifts each feature after normalising") {
    const double s = 1.1180339887498949;
    const Matrix y = layer_norm(Matrix({{1, 2, 3, 4}}), Vector({1, 2, 3, 4}), Vector({0, 1, 0, -1}), 0.0);
    CHECK_CLOSE(y, Matrix({{-1.5 / s, 2 * -0.5 / s + 1, 3 * 0.5 / s, 4 * 1.5 / s - 1}}), 1e-15);
  }

  TEST_CASE("layer_norm: each row gets mean 0 and variance 1 and eps is inside the square root") {
    Rng rng(2);
    Matrix x = rng.uniform_matrix(4, 6, -3, 3);
    for (std::size_t j = 0; j < 6; ++j) x(1, j) = 100.0 + 50.0 * x(1, j);  // another scale and offset
    const Matrix y = layer_norm(x, Vector(xt::ones<double>({6})), Vector(xt::zeros<double>({6})), 0.0);
    const Vector mean = xt::mean(y, {1});
    const Vector var = xt::mean(y * y, {1});
    CHECK_CLOSE(mean, Vector(xt::zeros<double>({4})), 1e-14);
    CHECK_CLOSE(var, Vector(xt::ones<double>({4})), 1e-13);
    // a constant row has variance 0: the result is (x - mean) / sqrt(eps) = 0, not NaN
    const Matrix flat = layer_norm(Matrix({{5, 5, 5}}), Vector({1, 1, 1}), Vector({0, 0, 0}), 1e-5);
    CHECK_CLOSE(flat, Matrix({{0, 0, 0}}), 0.0);
    // eps = 1: [0 2] -> [-1 1] / sqrt(1 + 1)
    const Matrix with_eps = layer_norm(Matrix({{0, 2}}), Vector({1, 1}), Vector({0, 0}), 1.0);
    CHECK_CLOSE(with_eps, Matrix({{-1 / std::sqrt(2.0), 1 / std::sqrt(2.0)}}), 1e-15);
  }

  TEST_CASE("layer_norm: gamma or beta of the wrong length throws std::invalid_argument") {
    CHECK_THROWS_AS(layer_norm(Matrix({{1, 2, 3}}), Vector({1, 1}), Vector({0, 0, 0}), 1e-5),
                    std::invalid_argument);
    CHECK_THROWS_AS(layer_norm(Matrix({{1, 2, 3}}), Vector({1, 1, 1}), Vector({0}), 1e-5),
                    std::invalid_argument);
  }

  TEST_CASE("encoder_layer: matches torch.nn.TransformerEncoderLayer to 1e-9 (post-norm and pre-norm)") {
    for (const std::string name : {"post_norm", "pre_norm", "post_norm_4_heads", "pre_norm_1_head"}) {
      CAPTURE(name);
      const std::string dir = fixtures + name;
      const Matrix src = load_matrix(dir, "src", "(L, E)");
      const Matrix expected = load_matrix(dir, "output", "(L, E)");
      const test::FixtureArgs args = test::fixture_args(dir);
      const Matrix got = encoder_layer(src, load_encoder_layer(dir), args.count("--heads"),
                                       args.has("--norm-first"), no_mask(src.shape(0), src.shape(0)));
      CHECK_CLOSE(got, expected, 1e-9);
    }
  }

  TEST_CASE("encoder_layer: pre-norm with zero sublayer weights is the identity (the residual path)") {
    Rng rng(4);
    EncoderLayerWeights w = random_encoder_layer(rng, 8, 16, kNorms);
    w.self_attn.out_proj_weight.fill(0.0);
    w.self_attn.out_proj_bias.fill(0.0);
    w.linear2_weight.fill(0.0);
    w.linear2_bias.fill(0.0);
    const Matrix x = rng.normal_matrix(5, 8);
    CHECK_CLOSE(encoder_layer(x, w, 2, true, no_mask(5, 5)), x, 0.0);
    // post-norm normalises even then: the output is norm2(norm1(x)), not x
    CHECK(max_abs_diff(encoder_layer(x, w, 2, false, no_mask(5, 5)), x) > 0.1);
  }

  TEST_CASE("encoder_layer: post-norm output rows are layer-normalised by norm2") {
    Rng rng(5);
    EncoderLayerWeights w = random_encoder_layer(rng, 8, 16, kNorms);
    w.norm2_weight.fill(1.0);
    w.norm2_bias.fill(0.0);
    const Matrix y = encoder_layer(rng.normal_matrix(6, 8), w, 4, false, no_mask(6, 6));
    REQUIRE_SHAPE(y, {6, 8});
    const Vector mean = xt::mean(y, {1});
    const Vector var = xt::mean(y * y, {1});
    CHECK_CLOSE(mean, Vector(xt::zeros<double>({6})), 1e-12);
    CHECK_CLOSE(var, Vector(xt::ones<double>({6})), 1e-3);  // eps = 1e-5 keeps it just below 1
  }

  TEST_CASE("encoder_layer: permuting the tokens permutes the outputs when there is no mask") {
    Rng rng(6);
    const EncoderLayerWeights w = random_encoder_layer(rng, 8, 16, kNorms);
    const Matrix x = rng.normal_matrix(5, 8);
    const std::vector<std::size_t> p = {3, 0, 4, 1, 2};
    Matrix px = x;
    for (std::size_t i = 0; i < 5; ++i) xt::view(px, i) = xt::view(x, p[i]);
    for (bool norm_first : {false, true}) {
      const Matrix y = encoder_layer(x, w, 2, norm_first, no_mask(5, 5));
      const Matrix py = encoder_layer(px, w, 2, norm_first, no_mask(5, 5));
      Matrix y_permuted = y;
      for (std::size_t i = 0; i < 5; ++i) xt::view(y_permuted, i) = xt::view(y, p[i]);
      CHECK_CLOSE(py, y_permuted, 1e-12);
    }
  }

  TEST_CASE("encoder_layer: with a causal mask an output never depends on later tokens") {
    Rng rng(7);
    const EncoderLayerWeights w = random_encoder_layer(rng, 8, 16, kNorms);
    Matrix x = rng.normal_matrix(6, 8);
    const Matrix before = encoder_layer(x, w, 2, false, causal_mask(6));
    for (std::size_t j = 0; j < 8; ++j) x(4, j) += 1.0;  // change token 4
    const Matrix after = encoder_layer(x, w, 2, false, causal_mask(6));
    const Matrix rows_before = xt::view(before, xt::range(0, 4));
    const Matrix rows_after = xt::view(after, xt::range(0, 4));
    CHECK_CLOSE(rows_after, rows_before, 0.0);
    CHECK(max_abs_diff(Matrix(xt::view(after, xt::range(4, 6))), Matrix(xt::view(before, xt::range(4, 6)))) >
          1e-3);
  }

}  // TEST_SUITE

// Given code (chapters/11_transformer_block/given.hpp) runs on chapter 01's reference linear() even in
// test_11_exercise, so these pass against the stubs too: the "given:" suite opts them out of the
// stubs-must-fail check (tools/check_stubs_fail.sh).
TEST_SUITE("given: 11 transformer block") {
  TEST_CASE("feed_forward: linear1, ReLU, linear2 worked by hand") {
    // E = 2, F = 3. x = [1 2]: hidden = x W1^T + b1 = [1, 2, 1 + 2 - 5] = [1 2 -2], ReLU -> [1 2 0];
    // output = [1 2 0] W2^T + b2 = [1 + 0 + 0 + 0.5, 0 + 2 + 0 + 0] = [1.5 2]
    EncoderLayerWeights w;
    w.linear1_weight = {{1, 0}, {0, 1}, {1, 1}};
    w.linear1_bias = {0, 0, -5};
    w.linear2_weight = {{1, 0, 1}, {0, 1, 1}};
    w.linear2_bias = {0.5, 0};
    CHECK_CLOSE(feed_forward(Matrix({{1, 2}}), w), Matrix({{1.5, 2}}), 0.0);
  }

  TEST_CASE("feed_forward: each row is transformed alone") {
    Rng rng(8);
    const EncoderLayerWeights w = random_encoder_layer(rng, 8, 16);
    const Matrix x = rng.normal_matrix(4, 8);
    const Matrix all = feed_forward(x, w);
    REQUIRE_SHAPE(all, {4, 8});
    for (std::size_t i = 0; i < 4; ++i) {
      const Matrix row = xt::view(x, xt::range(i, i + 1));
      CHECK_CLOSE(feed_forward(row, w), Matrix(xt::view(all, xt::range(i, i + 1))), 1e-15);
    }
  }
}  // TEST_SUITE

// Chapter 03 — tests of self_attention, run against the reference and against your exercise
// (./course check 03): cases worked by hand, shapes, rows summing to 1, and permutation
// equivariance.
#include "03_self_attention/contract.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <stdexcept>

using namespace course;

namespace {
const Matrix identity2 = {{1, 0}, {0, 1}};
}  // namespace

TEST_SUITE("03 self-attention") {
  TEST_CASE("two tokens worked by hand") {
    // x = I, W_q = W_k = I: Q = K = I, scores = I / sqrt(2), so each token prefers itself:
    // weights row 0 = [e^a, 1] / (e^a + 1) with a = 1/sqrt(2). W_v = [[1], [2]]: V = [[1], [2]].
    const Matrix w_v = {{1}, {2}};
    const AttentionResult r = self_attention(identity2, identity2, identity2, w_v);
    const double ea = std::exp(1 / std::sqrt(2.0)), self = ea / (ea + 1), other = 1 / (ea + 1);
    CHECK_CLOSE(r.weights, Matrix({{self, other}, {other, self}}), 1e-15);
    CHECK_CLOSE(r.output, Matrix({{self * 1 + other * 2}, {other * 1 + self * 2}}), 1e-15);
  }

  TEST_CASE("queries come from W_q and keys from W_k: swapping them changes who attends to whom") {
    // W_q = [[0, 2], [0, 0]]: Q = X W_q = [[0, 2], [0, 0]]; K = I. Scores = Q K^T / sqrt(2):
    // row 0 = [0, 2] / sqrt(2) (token 0 looks at token 1), row 1 = [0, 0] (uniform).
    const Matrix w_q = {{0, 2}, {0, 0}};
    const Matrix w_v = {{10, 0}, {0, 10}};
    const AttentionResult r = self_attention(identity2, w_q, identity2, w_v);
    const double e = std::exp(2 / std::sqrt(2.0)), p1 = e / (1 + e);
    CHECK_CLOSE(r.weights, Matrix({{1 - p1, p1}, {0.5, 0.5}}), 1e-15);
    CHECK_CLOSE(r.output, Matrix({{10 * (1 - p1), 10 * p1}, {5, 5}}), 1e-14);
  }

  TEST_CASE("identity weights give chapter 02's attention of x with itself") {
    Rng rng(3);
    const Matrix x = rng.normal_matrix(5, 4);
    const Matrix eye = xt::eye<double>(4);
    const AttentionResult r = self_attention(x, eye, eye, eye);
    const AttentionResult expected = scaled_dot_product_attention(x, x, x);
    CHECK_CLOSE(r.weights, expected.weights, 1e-15);
    CHECK_CLOSE(r.output, expected.output, 1e-15);
  }

  TEST_CASE("W_q = 0 makes every query the same: uniform weights and the mean of V") {
    Rng rng(4);
    const Matrix x = rng.normal_matrix(4, 3), w_k = rng.normal_matrix(3, 2), w_v = rng.normal_matrix(3, 2);
    const AttentionResult r = self_attention(x, xt::zeros<double>({3, 2}), w_k, w_v);
    CHECK_CLOSE(r.weights, Matrix(xt::ones<double>({4, 4}) * 0.25), 1e-15);
    // V = X W_v; every output row is the mean of V's rows
    const Matrix v = matmul(x, w_v);
    Matrix mean_rows(Matrix::shape_type{4, 2});
    for (std::size_t i = 0; i < 4; ++i)
      for (std::size_t c = 0; c < 2; ++c) mean_rows(i, c) = (v(0, c) + v(1, c) + v(2, c) + v(3, c)) / 4;
    CHECK_CLOSE(r.output, mean_rows, 1e-14);
  }

  TEST_CASE("shapes: x (n, d_model) and weights (d_model, d_k), (d_model, d_v) give (n, d_v) and (n, n)") {
    Rng rng(5);
    const AttentionResult r = self_attention(rng.normal_matrix(5, 6), rng.normal_matrix(6, 4),
                                             rng.normal_matrix(6, 4), rng.normal_matrix(6, 3));
    REQUIRE_SHAPE(r.output, {5, 3});
    REQUIRE_SHAPE(r.weights, {5, 5});
    const Vector sums = xt::sum(r.weights, {1});
    CHECK_CLOSE(sums, Vector(xt::ones<double>({5})), 1e-14);
  }

  TEST_CASE("permutation equivariance: shuffling the tokens shuffles the outputs the same way") {
    // self_attention(P X) = P self_attention(X), and the weights become P A P^T.
    Rng rng(6);
    const Matrix x = rng.normal_matrix(6, 5);
    const Matrix w_q = rng.normal_matrix(5, 4), w_k = rng.normal_matrix(5, 4), w_v = rng.normal_matrix(5, 3);
    const std::vector<std::size_t> perm = {4, 2, 0, 5, 1, 3};
    const AttentionResult a = self_attention(x, w_q, w_k, w_v);
    const AttentionResult b = self_attention(permute_rows(x, perm), w_q, w_k, w_v);
    CHECK_CLOSE(b.output, permute_rows(a.output, perm), 1e-14);
    Matrix pap = a.weights;
    for (std::size_t i = 0; i < 6; ++i)
      for (std::size_t j = 0; j < 6; ++j) pap(i, j) = a.weights(perm[i], perm[j]);
    CHECK_CLOSE(b.weights, pap, 1e-15);
  }

  TEST_CASE("weights whose rows differ from d_model, or W_q and W_k of different widths, are refused") {
    const Matrix x = xt::zeros<double>({3, 4});
    const Matrix w = xt::zeros<double>({4, 2});
    CHECK_THROWS_AS(self_attention(x, xt::zeros<double>({3, 2}), w, w), std::invalid_argument);
    CHECK_THROWS_AS(self_attention(x, w, w, xt::zeros<double>({5, 2})), std::invalid_argument);
    CHECK_THROWS_AS(self_attention(x, w, xt::zeros<double>({4, 3}), w), std::invalid_argument);
  }
}

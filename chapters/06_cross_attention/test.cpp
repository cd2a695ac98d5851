// Chapter 06 — tests of cross_attention, run against the reference and against your exercise
// (./course check 06): a case worked by hand, L different from S, widths that differ between the two
// sequences, the link to self-attention, and what reordering either sequence does.
#include "03_self_attention/contract.hpp"
#include "06_cross_attention/contract.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <stdexcept>

using namespace course;

TEST_SUITE("06 cross-attention") {
  TEST_CASE("one query reading three source tokens, worked by hand") {
    // W_q = W_k = W_v = I (2 x 2): Q = x_q = [[2, 0]], K = V = x_kv. Scores = [2, 0, 0] / sqrt(2).
    // weights = [e^a, 1, 1] / (e^a + 2) with a = sqrt(2); output = weights V.
    const Matrix x_q = {{2, 0}};
    const Matrix x_kv = {{1, 0}, {0, 1}, {0, 0}};
    const Matrix eye = xt::eye<double>(2);
    const AttentionResult r = cross_attention(x_q, x_kv, eye, eye, eye);
    const double ea = std::exp(std::sqrt(2.0)), sum = ea + 2;
    CHECK_CLOSE(r.weights, Matrix({{ea / sum, 1 / sum, 1 / sum}}), 1e-15);
    CHECK_CLOSE(r.output, Matrix({{ea / sum, 1 / sum}}), 1e-15);
  }

  TEST_CASE("L queries and S keys of different lengths: output (L, d_v), weights (L, S)") {
    Rng rng(1);
    const AttentionResult r =
        cross_attention(rng.normal_matrix(3, 4), rng.normal_matrix(7, 4), rng.normal_matrix(4, 2),
                        rng.normal_matrix(4, 2), rng.normal_matrix(4, 5));
    REQUIRE_SHAPE(r.output, {3, 5});
    REQUIRE_SHAPE(r.weights, {3, 7});
    const Vector sums = xt::sum(r.weights, {1});
    CHECK_CLOSE(sums, Vector(xt::ones<double>({3})), 1e-14);
  }

  TEST_CASE("the two sequences may have different widths d_q and d_kv") {
    // x_q (2, 3) through W_q (3, 2); x_kv (4, 5) through W_k (5, 2) and W_v (5, 1)
    Rng rng(2);
    const Matrix x_q = rng.normal_matrix(2, 3), x_kv = rng.normal_matrix(4, 5);
    const Matrix w_q = rng.normal_matrix(3, 2), w_k = rng.normal_matrix(5, 2), w_v = rng.normal_matrix(5, 1);
    const AttentionResult r = cross_attention(x_q, x_kv, w_q, w_k, w_v);
    const AttentionResult expected =
        scaled_dot_product_attention(matmul(x_q, w_q), matmul(x_kv, w_k), matmul(x_kv, w_v));
    CHECK_CLOSE(r.output, expected.output, 1e-14);
    CHECK_CLOSE(r.weights, expected.weights, 1e-15);
  }

  TEST_CASE("with x_q = x_kv it is self-attention (chapter 03)") {
    Rng rng(3);
    const Matrix x = rng.normal_matrix(5, 4);
    const Matrix w_q = rng.normal_matrix(4, 3), w_k = rng.normal_matrix(4, 3), w_v = rng.normal_matrix(4, 2);
    const AttentionResult r = cross_attention(x, x, w_q, w_k, w_v);
    const AttentionResult expected = self_attention(x, w_q, w_k, w_v);
    CHECK_CLOSE(r.output, expected.output, 1e-15);
    CHECK_CLOSE(r.weights, expected.weights, 1e-15);
  }

  TEST_CASE("reordering the source leaves the output unchanged; reordering the target reorders it") {
    Rng rng(4);
    const Matrix x_q = rng.normal_matrix(3, 4), x_kv = rng.normal_matrix(5, 4);
    const Matrix w_q = rng.normal_matrix(4, 4), w_k = rng.normal_matrix(4, 4), w_v = rng.normal_matrix(4, 2);
    const AttentionResult a = cross_attention(x_q, x_kv, w_q, w_k, w_v);
    const std::vector<std::size_t> src = {2, 4, 0, 1, 3}, tgt = {1, 2, 0};
    const AttentionResult b = cross_attention(x_q, permute_rows(x_kv, src), w_q, w_k, w_v);
    CHECK_CLOSE(b.output, a.output, 1e-14);
    const AttentionResult c = cross_attention(permute_rows(x_q, tgt), x_kv, w_q, w_k, w_v);
    CHECK_CLOSE(c.output, permute_rows(a.output, tgt), 1e-14);
  }

  TEST_CASE("shapes that do not fit are refused") {
    const Matrix x_q = xt::zeros<double>({2, 3}), x_kv = xt::zeros<double>({4, 5});
    const Matrix w3 = xt::zeros<double>({3, 2}), w5 = xt::zeros<double>({5, 2});
    CHECK_THROWS_AS(cross_attention(x_q, x_kv, w5, w5, w5), std::invalid_argument);  // W_q rows != d_q
    CHECK_THROWS_AS(cross_attention(x_q, x_kv, w3, w3, w5), std::invalid_argument);  // W_k rows != d_kv
    CHECK_THROWS_AS(cross_attention(x_q, x_kv, w3, xt::zeros<double>({5, 3}), w5),
                    std::invalid_argument);  // d_k
  }
}

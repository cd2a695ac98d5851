// Chapter 01 — tests of matmul and softmax_rows, run against the reference and against your
// exercise (./course check 01). Every number below was worked out by hand or by an invariant.
#include "01_tensors/contract.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <fmt/ranges.h>

using namespace course;

TEST_SUITE("01 tensors") {
  TEST_CASE("matmul: a 2x3 times 3x2 product worked by hand") {
    const Matrix a = {{1, 2, 3}, {4, 5, 6}};
    const Matrix b = {{7, 8}, {9, 10}, {11, 12}};
    // c[0][0] = 1*7 + 2*9 + 3*11 = 58, c[0][1] = 1*8 + 2*10 + 3*12 = 64, ...
    const Matrix expected = {{58, 64}, {139, 154}};
    CHECK_CLOSE(matmul(a, b), expected, 0.0);
  }

  TEST_CASE("matmul: a row times a column is a dot product and a column times a row is an outer product") {
    const Matrix row = {{1, -2, 3}};
    const Matrix col = {{4}, {5}, {6}};
    CHECK_CLOSE(matmul(row, col), Matrix({{1 * 4 - 2 * 5 + 3 * 6}}), 0.0);
    const Matrix outer = {{4, -8, 12}, {5, -10, 15}, {6, -12, 18}};
    CHECK_CLOSE(matmul(col, row), outer, 0.0);
  }

  TEST_CASE("matmul: multiplying by the identity changes nothing") {
    Rng rng(7);
    const Matrix a = rng.uniform_matrix(4, 5, -1.0, 1.0);
    const Matrix identity = xt::eye<double>(5);
    CHECK_CLOSE(matmul(a, identity), a, 0.0);
    CHECK_CLOSE(matmul(Matrix(xt::eye<double>(4)), a), a, 0.0);
  }

  TEST_CASE("matmul: random 6x5 times 5x7 agrees with the sum written out") {
    Rng rng(11);
    const Matrix a = rng.uniform_matrix(6, 5, -1.0, 1.0);
    const Matrix b = rng.uniform_matrix(5, 7, -1.0, 1.0);
    Matrix expected = xt::zeros<double>({6, 7});
    for (std::size_t i = 0; i < 6; ++i)
      for (std::size_t j = 0; j < 7; ++j)
        for (std::size_t p = 0; p < 5; ++p) expected(i, j) += a(i, p) * b(p, j);
    const Matrix c = matmul(a, b);
    REQUIRE_SHAPE(c, {6, 7});
    CHECK_CLOSE(c, expected, 1e-14);
  }

  TEST_CASE("matmul: mismatched inner sizes throw std::invalid_argument") {
    const Matrix a = xt::ones<double>({2, 3});
    const Matrix b = xt::ones<double>({2, 3});
    CHECK_THROWS_AS(matmul(a, b), std::invalid_argument);
  }

  TEST_CASE("softmax_rows: the row [1 2 3] worked by hand") {
    // e^1, e^2, e^3 = 2.71828, 7.38906, 20.08554; their sum is 30.19287
    const Matrix p = softmax_rows(Matrix({{1, 2, 3}}));
    const Matrix expected = {{0.09003057317038046, 0.24472847105479767, 0.6652409557748219}};
    CHECK_CLOSE(p, expected, 1e-15);
  }

  TEST_CASE("softmax_rows: each row is its own softmax (the keep_dims trap breaks this)") {
    // Rows with different maxima: a softmax that mixes up the rows' maxima gets these wrong.
    const Matrix s = {{1, 2, 3}, {4, 5, 6}, {7, 8, 20}};
    const double a = 0.09003057317038046, b = 0.24472847105479767, c = 0.6652409557748219;
    // e^(7-20), e^(8-20), 1 over their sum
    const double z = std::exp(-13.0) + std::exp(-12.0) + 1.0;
    const Matrix expected = {{a, b, c}, {a, b, c}, {std::exp(-13.0) / z, std::exp(-12.0) / z, 1.0 / z}};
    CHECK_CLOSE(softmax_rows(s), expected, 1e-15);
  }

  TEST_CASE("softmax_rows: rows sum to 1 and every weight lies in [0 1]") {
    Rng rng(3);
    const Matrix s = rng.uniform_matrix(5, 8, -6.0, 6.0);
    const Matrix p = softmax_rows(s);
    REQUIRE_SHAPE(p, {5, 8});
    const Vector sums = xt::sum(p, {1});
    CHECK_CLOSE(sums, Vector(xt::ones<double>({5})), 1e-15);
    CHECK(xt::amin(p)() >= 0.0);
    CHECK(xt::amax(p)() <= 1.0);
  }

  TEST_CASE("softmax_rows: adding a constant to a row changes nothing") {
    Rng rng(5);
    const Matrix s = rng.uniform_matrix(3, 4, -2.0, 2.0);
    Matrix shifted = s;
    for (std::size_t j = 0; j < 4; ++j) {
      shifted(0, j) += 100.0;
      shifted(2, j) -= 37.5;
    }
    CHECK_CLOSE(softmax_rows(shifted), softmax_rows(s), 1e-13);
  }

  TEST_CASE("softmax_rows: scores around plus and minus 1e4 give exact results and no NaN") {
    const Matrix s = {{1e4, 1e4 - 1, 1e4 - 2}, {-1e4, -1e4 + 1, -1e4 + 2}, {1e4, -1e4, 1e4}};
    const Matrix p = softmax_rows(s);
    // Shifting by the maximum turns the rows into [0 -1 -2], [-2 -1 0] and [0 -2e4 0].
    const double a = 0.6652409557748219, b = 0.24472847105479767, c = 0.09003057317038046;
    const Matrix expected = {{a, b, c}, {c, b, a}, {0.5, 0.0, 0.5}};
    CHECK_CLOSE(p, expected, 1e-15);
  }

  TEST_CASE("softmax_rows: the maximum only in column 0 and a one-column matrix") {
    // The maximum must come from every column: a loop that skips column 0 takes 1 as the maximum of
    // the first row and computes exp(800 - 1) = inf, then inf / inf = NaN. e^-799 and e^-800 are
    // below the smallest double, so the exact result is [1 0 0].
    const Matrix s = {{800, 0, 1}, {-1e4, -2e4, -3e4}};
    const Matrix expected = {{1, 0, 0}, {1, 0, 0}};
    CHECK_CLOSE(softmax_rows(s), expected, 0.0);
    // One column: every row is [1], whatever its score.
    CHECK_CLOSE(softmax_rows(Matrix({{5.0}, {-1e4}, {1e4}})), Matrix({{1.0}, {1.0}, {1.0}}), 0.0);
  }

  TEST_CASE("softmax_rows: a score of minus infinity gets weight exactly 0") {
    const Matrix s = {{0.0, -INFINITY, 0.0}, {-INFINITY, 3.0, -INFINITY}};
    const Matrix expected = {{0.5, 0.0, 0.5}, {0.0, 1.0, 0.0}};
    CHECK_CLOSE(softmax_rows(s), expected, 0.0);
  }

}  // TEST_SUITE

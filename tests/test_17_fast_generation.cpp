// Chapter 17 — tests of fast_generation_row_sums, run against the reference and against your exercise
// (./course check 17). Every case calls the exercise's function, so every case fails against the
// stub; a test of given code that does not call it goes in a TEST_SUITE("given: 17 ...")
// (CONTRIBUTING.md, "Given code").
#include "given/17_fast_generation.hpp"
#include "rng.hpp"
#include "test_util.hpp"

using namespace course;

TEST_SUITE("17 Fast generation") {
  TEST_CASE("fast_generation_row_sums: a 2 x 3 matrix worked by hand") {
    // row 0: 1 + 2 + 3 = 6, row 1: 4 + 5 + 6 = 15
    CHECK_CLOSE(fast_generation_row_sums(Matrix({{1, 2, 3}, {4, 5, 6}})), Vector({6, 15}), 0.0);
  }

  TEST_CASE("fast_generation_row_sums: the row sums add up to the sum of all entries") {
    Rng rng(1);
    const Matrix x = rng.uniform_matrix(5, 7, -1.0, 1.0);
    const Vector s = fast_generation_row_sums(x);
    REQUIRE_SHAPE(s, {5});
    CHECK(std::abs(xt::sum(s)() - xt::sum(x)()) < 1e-12);
  }

  TEST_CASE("fast_generation_row_means (given) divides the row sums by the number of columns") {
    CHECK_CLOSE(fast_generation_row_means(Matrix({{1, 2, 3}, {4, 5, 6}})), Vector({2, 5}), 1e-15);
  }
}  // TEST_SUITE

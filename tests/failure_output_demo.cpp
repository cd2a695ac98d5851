// What a student sees when a check fails: every test case here fails on purpose, with the kinds of
// mistakes students make, so that tools/test_course.sh can hold CHECK_CLOSE and REQUIRE_SHAPE
// (tests/test_util.hpp) to their promise: the result that differs is named, the first differing
// index comes with both values, and the tensors are shown as short excerpts, never in full.
// Not part of the course's tests (ctest runs it only through tools/test_course.sh).
#include "test_util.hpp"

#include <xtensor/xbuilder.hpp>

#include <cmath>

using namespace course;

namespace {
// PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(...): the reference, (n, d).
Matrix encoding(std::size_t n, std::size_t d, bool cosine_too) {
  Matrix pe = xt::zeros<double>({n, d});
  for (std::size_t p = 0; p < n; ++p) {
    for (std::size_t i = 0; i < d / 2; ++i) {
      const double angle = static_cast<double>(p) / std::pow(10000.0, 2.0 * i / d);
      pe(p, 2 * i) = std::sin(angle);
      pe(p, 2 * i + 1) = cosine_too ? std::cos(angle) : std::sin(angle);  // the mistake: sin twice
    }
  }
  return pe;
}

struct AttentionResult {
  Matrix output;
  Matrix weights;
};
}  // namespace

TEST_SUITE("failure output") {
  TEST_CASE("a wrong sinusoidal encoding, (128, 64), checked three times") {
    for (const std::size_t n : {50, 7, 128}) {
      CAPTURE(n);
      CHECK_CLOSE(encoding(n, 64, false), encoding(n, 64, true), 1e-12);
    }
  }

  TEST_CASE("the weights differ, the output does not") {
    const AttentionResult r{Matrix{{1.0, 2.0}}, Matrix{{0.25, 0.75}, {0.5, 0.5}}};
    CHECK_CLOSE(r.output, Matrix({{1.0, 2.0}}), 1e-12);
    CHECK_CLOSE(r.weights, Matrix({{0.25, 0.75}, {0.75, 0.25}}), 1e-12);
  }

  TEST_CASE("a result of the wrong shape") {
    const AttentionResult r{Matrix{{1.0, 2.0}}, Matrix{{1.0}}};
    REQUIRE_SHAPE(r.output, {2, 2});
  }

  TEST_CASE("one head of three differs") {
    Tensor3 expected = xt::zeros<double>({3, 4, 5});
    Tensor3 heads = expected;
    heads(1, 2, 3) = 1.0;
    CHECK_CLOSE(heads, expected, 1e-12);
  }

  TEST_CASE("a NaN in a long vector") {
    const Vector expected = xt::arange<double>(40.0);
    Vector got = expected;
    got(30) = NAN;
    CHECK_CLOSE(got, expected, 1e-9);
  }
}

TEST_SUITE("failure output: numbers and gradients") {
  TEST_CASE("a fixture's name and a number that differs") {
    for (const char* name : {"adamw_default"}) {
      CAPTURE(name);  // prints the name, not the address of its first character
      const double loss = 2.5;
      CHECK_NEAR(loss, 2.25, 1e-12);
    }
  }

  TEST_CASE("a gradient with one wrong entry") {
    const Matrix analytic = {{0.5, -1.0}, {4.0, 0.25}};
    const Matrix numerical = {{0.5, -1.0}, {2.0, 0.25}};
    CHECK_GRADIENT(analytic, numerical, 1e-8);
  }
}

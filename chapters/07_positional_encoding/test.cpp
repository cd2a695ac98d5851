// Chapter 07 — tests of sinusoidal_encoding and apply_rope, run against the reference and against
// your exercise (./course check 07): values worked by hand, the formula as PyTorch code computes it
// (fixtures by chapters/07_positional_encoding/make_fixtures.py) to 1e-12, the rotation property, and RoPE's relative
// positions.
#include "01_tensors/contract.hpp"
#include "07_positional_encoding/given.hpp"
#include "npy.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <stdexcept>

using namespace course;

namespace {
double dot_rows(const Matrix& a, std::size_t i, const Matrix& b, std::size_t j) {
  double s = 0;
  for (std::size_t c = 0; c < a.shape(1); ++c) s += a(i, c) * b(j, c);
  return s;
}
}  // namespace

TEST_SUITE("07 positional encoding") {
  TEST_CASE("sinusoidal_encoding worked by hand for d_model 4") {
    // frequencies 1 / 10000^(0/4) = 1 and 1 / 10000^(2/4) = 1/100
    const Matrix pe = sinusoidal_encoding(3, 4);
    REQUIRE_SHAPE(pe, {3, 4});
    const Matrix expected = {{0, 1, 0, 1},
                             {std::sin(1.0), std::cos(1.0), std::sin(0.01), std::cos(0.01)},
                             {std::sin(2.0), std::cos(2.0), std::sin(0.02), std::cos(0.02)}};
    CHECK_CLOSE(pe, expected, 1e-15);
  }

  TEST_CASE("sinusoidal_encoding equals the PyTorch-style formula to 1e-12") {
    for (const std::string name : {"L50_D16", "L7_D6", "L128_D64"}) {
      CAPTURE(name);
      const Matrix expected = load_matrix(
          std::string(COURSE_CHAPTERS_DIR) + "/07_positional_encoding/fixtures/" + name, "pe", "(L, D)");
      CHECK_CLOSE(sinusoidal_encoding(expected.shape(0), expected.shape(1)), expected, 1e-12);
    }
  }

  TEST_CASE("PE(p + k) is a fixed rotation of PE(p), the same for every p") {
    const std::size_t d = 8;
    const Matrix pe = sinusoidal_encoding(40, d);
    for (std::size_t k : {1, 3, 10}) {
      const Matrix r = rotation(d, static_cast<double>(k));
      for (std::size_t p : {0, 5, 17, 29}) {
        CAPTURE(k);
        CAPTURE(p);
        const Matrix row = xt::view(pe, xt::range(p, p + 1), xt::all());
        const Matrix row_t = xt::transpose(row);
        const Matrix rotated = xt::transpose(matmul(r, row_t));
        CHECK_CLOSE(rotated, Matrix(xt::view(pe, xt::range(p + k, p + k + 1), xt::all())), 1e-12);
      }
    }
  }

  TEST_CASE("sinusoidal_encoding refuses an odd or zero d_model") {
    CHECK_THROWS_AS(sinusoidal_encoding(4, 5), std::invalid_argument);
    CHECK_THROWS_AS(sinusoidal_encoding(4, 0), std::invalid_argument);
  }

  TEST_CASE("apply_rope worked by hand: d 2 rotates the pair by the position in radians") {
    // theta_0 = 1: row r at position 3 + r is rotated by 3 + r radians.
    const Matrix out = apply_rope(Matrix({{1, 0}, {0, 2}}), 3);
    const Matrix expected = {{std::cos(3.0), std::sin(3.0)}, {-2 * std::sin(4.0), 2 * std::cos(4.0)}};
    CHECK_CLOSE(out, expected, 1e-15);
  }

  TEST_CASE("apply_rope: the second pair turns 100 times slower for d 4") {
    // theta_1 = 10000^(-2/4) = 1/100; position 5: angles 5 and 0.05
    const Matrix out = apply_rope(Matrix({{1, 0, 1, 0}}), 5);
    CHECK_CLOSE(out, Matrix({{std::cos(5.0), std::sin(5.0), std::cos(0.05), std::sin(0.05)}}), 1e-15);
  }

  TEST_CASE("apply_rope keeps lengths and position 0 changes nothing") {
    Rng rng(7);
    const Matrix x = rng.normal_matrix(6, 8);
    const Matrix out = apply_rope(x, 10);
    for (std::size_t r = 0; r < 6; ++r) CHECK_NEAR(dot_rows(out, r, out, r), dot_rows(x, r, x, r), 1e-12);
    const Matrix first = apply_rope(Matrix(xt::view(x, xt::range(0, 1), xt::all())), 0);
    CHECK_CLOSE(first, Matrix(xt::view(x, xt::range(0, 1), xt::all())), 0.0);
  }

  TEST_CASE("with RoPE the score q_m . k_n depends only on the offset m - n") {
    Rng rng(8);
    const Matrix q = rng.normal_matrix(1, 16), k = rng.normal_matrix(1, 16);
    const double base = dot_rows(apply_rope(q, 7), 0, apply_rope(k, 4), 0);  // offset 3
    for (std::size_t shift : {1, 10, 100, 1000}) {
      CAPTURE(shift);
      CHECK_NEAR(dot_rows(apply_rope(q, 7 + shift), 0, apply_rope(k, 4 + shift), 0), base, 1e-10);
    }
    // and it does depend on the offset
    CHECK(std::abs(dot_rows(apply_rope(q, 8), 0, apply_rope(k, 4), 0) - base) > 1e-6);
  }

  TEST_CASE("apply_rope refuses an odd or zero width") {
    CHECK_THROWS_AS(apply_rope(xt::zeros<double>({2, 3}), 0), std::invalid_argument);
    CHECK_THROWS_AS(apply_rope(xt::zeros<double>({2, 0}), 0), std::invalid_argument);
  }
}

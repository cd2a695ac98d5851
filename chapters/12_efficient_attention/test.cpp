// Chapter 12 — tests of online_softmax and tiled_attention, run against the reference and against
// your exercise (./course check 12): numbers worked out by hand, agreement with the naive softmax and
// attention of chapters 01, 02 and 04 to 1e-12, and chapter 02's PyTorch fixtures.
#include "04_masking/contract.hpp"
#include "12_efficient_attention/contract.hpp"
#include "npy.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <stdexcept>

using namespace course;

namespace {
// The naive result: softmax(q k^T / sqrt(d)) v with the whole (L, S) matrix (chapter 02).
Matrix naive(const Matrix& q, const Matrix& k, const Matrix& v) {
  return scaled_dot_product_attention(q, k, v).output;
}
}  // namespace

TEST_SUITE("12 efficient attention") {
  TEST_CASE("online_softmax of [1 2 3] worked by hand") {
    // e^1, e^2, e^3 over their sum: [0.09003057317038046, 0.24472847105479767, 0.6652409557748219]
    CHECK_CLOSE(online_softmax(Vector({1, 2, 3})),
                Vector({0.09003057317038046, 0.24472847105479767, 0.6652409557748219}), 1e-15);
  }

  TEST_CASE("online_softmax gives the same numbers wherever the maximum arrives") {
    // The maximum first (no rescaling needed) and last (every step rescales).
    const Vector first = online_softmax(Vector({3, 1, 2}));
    const Vector last = online_softmax(Vector({1, 2, 3}));
    CHECK_CLOSE(first, Vector({last(2), last(0), last(1)}), 1e-15);
  }

  TEST_CASE("online_softmax equals softmax_rows on random rows") {
    Rng rng(12);
    const Matrix scores = 5.0 * rng.normal_matrix(6, 40);
    const Matrix expected = softmax_rows(scores);
    for (std::size_t i = 0; i < 6; ++i) {
      const Vector row = xt::view(scores, i, xt::all());
      CHECK_CLOSE(online_softmax(row), Vector(xt::view(expected, i, xt::all())), 1e-15);
    }
  }

  TEST_CASE("online_softmax: scores around plus and minus 1e4 and -inf give no NaN") {
    const double e = std::exp(-1.0);
    CHECK_CLOSE(online_softmax(Vector({-1e4, 1e4 - 1, -INFINITY, 1e4})),
                Vector({0, e / (1 + e), 0, 1 / (1 + e)}), 1e-15);
    CHECK_CLOSE(online_softmax(Vector({7.5})), Vector({1.0}), 0.0);
  }

  TEST_CASE("online_softmax: a leading -inf gets weight 0 (the first step must not compute -inf - -inf)") {
    // [-inf 1 2] is softmax_rows' [0, 1 / (1 + e), e / (1 + e)] = [0, 0.2689..., 0.7310...]. Starting
    // from m = -inf, the first score -inf gives m_new = -inf and exp(-inf - -inf) = NaN unless it is
    // skipped.
    const double e = std::exp(1.0);
    CHECK_CLOSE(online_softmax(Vector({-INFINITY, 1, 2})), Vector({0, 1 / (1 + e), e / (1 + e)}), 1e-15);
    CHECK_CLOSE(online_softmax(Vector({-INFINITY, -INFINITY, 1, 2})),
                Vector({0, 0, 1 / (1 + e), e / (1 + e)}), 1e-15);
    const Matrix row = {{-INFINITY, 3, -INFINITY, 0.5, 4}};
    CHECK_CLOSE(online_softmax(Vector(xt::view(row, 0, xt::all()))),
                Vector(xt::view(softmax_rows(row), 0, xt::all())), 1e-15);
  }

  TEST_CASE("online_softmax: a row that is all -inf but one gives that one weight 1") {
    // the finite score first, in the middle and last
    CHECK_CLOSE(online_softmax(Vector({-2.5, -INFINITY, -INFINITY})), Vector({1, 0, 0}), 0.0);
    CHECK_CLOSE(online_softmax(Vector({-INFINITY, 7, -INFINITY})), Vector({0, 1, 0}), 0.0);
    CHECK_CLOSE(online_softmax(Vector({-INFINITY, -INFINITY, -INFINITY, 1e4})), Vector({0, 0, 0, 1}), 0.0);
  }

  TEST_CASE("online_softmax: a row of only -inf gives zeros, as chapter 04's fully masked row") {
    // Nothing may be attended: all-zero weights (the contract), not 0 / 0 = NaN.
    CHECK_CLOSE(online_softmax(Vector({-INFINITY, -INFINITY, -INFINITY})), Vector({0, 0, 0}), 0.0);
    CHECK_CLOSE(online_softmax(Vector({-INFINITY})), Vector({0}), 0.0);
  }

  TEST_CASE("tiled_attention worked by hand: one query, two keys, blocks of 1") {
    // Same numbers as chapter 02's first test: scores [2, 0], weights [e^2, 1] / (e^2 + 1).
    const double w0 = 0.8807970779778823, w1 = 0.1192029220221176;
    const Matrix out = tiled_attention(Matrix({{1, 1, 1, 1}}), Matrix({{1, 1, 1, 1}, {0, 0, 0, 0}}),
                                       Matrix({{10, 0}, {0, 10}}), 1, false);
    CHECK_CLOSE(out, Matrix({{10 * w0, 10 * w1}}), 1e-14);
  }

  TEST_CASE("tiled_attention equals naive attention for every block size") {
    Rng rng(1);
    const Matrix q = rng.normal_matrix(13, 8), k = rng.normal_matrix(11, 8), v = rng.normal_matrix(11, 5);
    const Matrix expected = naive(q, k, v);
    for (std::size_t B : {1, 2, 3, 4, 7, 11, 13, 64}) {
      CAPTURE(B);
      CHECK_CLOSE(tiled_attention(q, k, v, B, false), expected, 1e-12);
    }
  }

  TEST_CASE("tiled_attention with causal equals masked attention with a causal mask") {
    Rng rng(2);
    const Matrix q = rng.normal_matrix(10, 6), k = rng.normal_matrix(10, 6), v = rng.normal_matrix(10, 3);
    const Matrix expected = masked_attention(q, k, v, causal_mask(10)).output;
    for (std::size_t B : {1, 3, 4, 10, 32}) {
      CAPTURE(B);
      CHECK_CLOSE(tiled_attention(q, k, v, B, true), expected, 1e-12);
    }
  }

  TEST_CASE("tiled_attention: a block whose scores are far above the previous ones rescales exactly") {
    // Key 2 scores 1e4 higher than keys 0 and 1: with blocks of 2 the running maximum jumps from the
    // first block to the second, and the old sum must be multiplied by exp(-1e4) = 0, not lost to NaN.
    const Matrix q = {{100.0}};
    const Matrix k = {{0.0}, {0.5}, {100.0}, {99.99}};
    const Matrix v = {{1.0}, {2.0}, {3.0}, {4.0}};
    CHECK_CLOSE(tiled_attention(q, k, v, 2, false), naive(q, k, v), 1e-12);
  }

  TEST_CASE("tiled_attention matches PyTorch on chapter 02's fixtures") {
    for (const std::string name : {"small", "one_query", "wide", "large_scores"}) {
      CAPTURE(name);
      const std::string dir = std::string(COURSE_CHAPTERS_DIR) + "/02_dot_product_attention/fixtures/" + name;
      const Matrix out =
          tiled_attention(load_matrix(dir, "query", "(L, E)"), load_matrix(dir, "key", "(S, E)"),
                          load_matrix(dir, "value", "(S, Ev)"), 2, false);
      CHECK_CLOSE(out, load_matrix(dir, "output", "(L, Ev)"), 1e-9);
    }
  }

  TEST_CASE("tiled_attention refuses block size 0, causal with L != S and shapes that do not fit") {
    const Matrix q = xt::zeros<double>({3, 2}), k = xt::zeros<double>({4, 2}), v = xt::zeros<double>({4, 1});
    CHECK_THROWS_AS(tiled_attention(q, k, v, 0, false), std::invalid_argument);
    CHECK_THROWS_AS(tiled_attention(q, k, v, 2, true), std::invalid_argument);
    CHECK_THROWS_AS(tiled_attention(q, xt::zeros<double>({4, 3}), v, 2, false), std::invalid_argument);
    CHECK_THROWS_AS(tiled_attention(q, k, xt::zeros<double>({5, 1}), 2, false), std::invalid_argument);
  }
}

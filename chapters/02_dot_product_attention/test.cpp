// Chapter 02 — tests of scaled_dot_product_attention, run against the reference and against your
// exercise (./course check 02): numbers worked out by hand, invariants, and PyTorch (fixtures made by
// chapters/02_dot_product_attention/make_fixtures.py) to 1e-9.
#include "02_dot_product_attention/contract.hpp"
#include "npy.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <stdexcept>

using namespace course;

namespace {
const std::string fixtures = std::string(COURSE_CHAPTERS_DIR) + "/02_dot_product_attention/fixtures/";

// PyTorch's result for one fixture case against ours.
void check_pytorch_case(const std::string& name) {
  const std::string dir = fixtures + name;
  const Matrix q = load_matrix(dir, "query", "(L, E)");
  const Matrix k = load_matrix(dir, "key", "(S, E)");
  const Matrix v = load_matrix(dir, "value", "(S, Ev)");
  const AttentionResult r = scaled_dot_product_attention(q, k, v);
  CHECK_CLOSE(r.weights, load_matrix(dir, "weights", "(L, S)"), 1e-9);
  CHECK_CLOSE(r.output, load_matrix(dir, "output", "(L, Ev)"), 1e-9);
}
}  // namespace

TEST_SUITE("02 scaled dot-product attention") {
  TEST_CASE("one query and two keys worked by hand") {
    // d_k = 4: q . k0 = 4 and q . k1 = 0, divided by sqrt(4) = 2: scores [2, 0].
    // softmax([2, 0]) = [e^2 / (e^2 + 1), 1 / (e^2 + 1)] = [0.8807970779778823, 0.1192029220221176]
    const Matrix q = {{1, 1, 1, 1}};
    const Matrix k = {{1, 1, 1, 1}, {0, 0, 0, 0}};
    const Matrix v = {{10, 0}, {0, 10}};
    const AttentionResult r = scaled_dot_product_attention(q, k, v);
    const double w0 = 0.8807970779778823, w1 = 0.1192029220221176;
    CHECK_CLOSE(r.weights, Matrix({{w0, w1}}), 1e-15);
    CHECK_CLOSE(r.output, Matrix({{10 * w0, 10 * w1}}), 1e-14);
  }

  TEST_CASE("the scores are divided by sqrt(d_k) and not by d_k") {
    // d_k = 9: q . k0 = 9 * 0.5 = 4.5; / sqrt(9) = 1.5 (dividing by 9 would give 0.5, not at all 0).
    // weights = softmax([1.5, 0]) = [1 / (1 + e^-1.5), 1 / (1 + e^1.5)]
    const Matrix q = xt::ones<double>({1, 9});
    Matrix k = xt::zeros<double>({2, 9});
    xt::view(k, 0, xt::all()) = 0.5;
    const Matrix v = {{1.0}, {0.0}};
    const AttentionResult r = scaled_dot_product_attention(q, k, v);
    const double w0 = 1.0 / (1.0 + std::exp(-1.5));
    CHECK_CLOSE(r.weights, Matrix({{w0, 1.0 - w0}}), 1e-15);
    CHECK_CLOSE(r.output, Matrix({{w0}}), 1e-15);
  }

  TEST_CASE("a query that matches one key much better copies that key's value") {
    // Scores [20, 0, 0] / sqrt(1): the first weight is 1 / (1 + 2 e^-20), the others e^-20 / (1 + 2e^-20).
    const Matrix q = {{20.0}};
    const Matrix k = {{1.0}, {0.0}, {0.0}};
    const Matrix v = {{1, 2, 3}, {40, 50, 60}, {70, 80, 90}};
    const AttentionResult r = scaled_dot_product_attention(q, k, v);
    const double small = std::exp(-20.0) / (1 + 2 * std::exp(-20.0));
    CHECK_CLOSE(r.weights, Matrix({{1 - 2 * small, small, small}}), 1e-15);
    // output = (1 - 2 small) [1 2 3] + small [40 50 60] + small [70 80 90]: within 3e-7 of [1 2 3]
    CHECK_CLOSE(r.output, Matrix({{1 + 108 * small, 2 + 126 * small, 3 + 144 * small}}), 1e-14);
  }

  TEST_CASE("keys that are all equal give uniform weights and the mean of the values") {
    const Matrix q = {{1, -2}, {3, 0.5}};
    const Matrix k = {{0.3, 0.7}, {0.3, 0.7}, {0.3, 0.7}, {0.3, 0.7}};
    const Matrix v = {{1, 0}, {2, 0}, {3, 0}, {6, 4}};
    const AttentionResult r = scaled_dot_product_attention(q, k, v);
    CHECK_CLOSE(r.weights, Matrix(xt::ones<double>({2, 4}) * 0.25), 1e-15);
    CHECK_CLOSE(r.output, Matrix({{3, 1}, {3, 1}}), 1e-14);
  }

  TEST_CASE("shapes: q (L, d_k), k (S, d_k), v (S, d_v) give output (L, d_v) and weights (L, S)") {
    Rng rng(1);
    const AttentionResult r = scaled_dot_product_attention(rng.normal_matrix(3, 4), rng.normal_matrix(7, 4),
                                                           rng.normal_matrix(7, 2));
    REQUIRE_SHAPE(r.output, {3, 2});
    REQUIRE_SHAPE(r.weights, {3, 7});
  }

  TEST_CASE("every row of weights is a probability distribution") {
    Rng rng(2);
    const AttentionResult r = scaled_dot_product_attention(
        3 * rng.normal_matrix(5, 8), 3 * rng.normal_matrix(6, 8), rng.normal_matrix(6, 3));
    REQUIRE_SHAPE(r.weights, {5, 6});
    CHECK(xt::all(r.weights >= 0.0));
    const Vector sums = xt::sum(r.weights, {1});
    CHECK_CLOSE(sums, Vector(xt::ones<double>({5})), 1e-14);
  }

  TEST_CASE("scores around plus and minus 1e4 give exact weights and no NaN") {
    // Scores [1e4, -1e4, 1e4 - 1]: exp(1e4) overflows unless the row maximum is subtracted first.
    // softmax = [1, 0, e^-1] / (1 + e^-1) up to e^-20000, which is 0 in double.
    const Matrix q = {{1e4}};
    const Matrix k = {{1.0}, {-1.0}, {1.0 - 1e-4}};
    const Matrix v = {{1.0}, {-5.0}, {0.0}};
    const AttentionResult r = scaled_dot_product_attention(q, k, v);
    const double e = std::exp(-1.0);
    CHECK_CLOSE(r.weights, Matrix({{1 / (1 + e), 0.0, e / (1 + e)}}), 1e-12);
    CHECK_CLOSE(r.output, Matrix({{1 / (1 + e)}}), 1e-12);
  }

  TEST_CASE("moving the keys and values together moves the weights and leaves the output") {
    // Attention treats the keys as a set: permuting (k, v) rows permutes the weights' columns only.
    Rng rng(3);
    const Matrix q = rng.normal_matrix(4, 5), k = rng.normal_matrix(6, 5), v = rng.normal_matrix(6, 2);
    const std::vector<std::size_t> perm = {3, 0, 5, 1, 4, 2};
    Matrix kp = k, vp = v;
    for (std::size_t j = 0; j < 6; ++j) {
      xt::view(kp, j, xt::all()) = xt::view(k, perm[j], xt::all());
      xt::view(vp, j, xt::all()) = xt::view(v, perm[j], xt::all());
    }
    const AttentionResult a = scaled_dot_product_attention(q, k, v);
    const AttentionResult b = scaled_dot_product_attention(q, kp, vp);
    CHECK_CLOSE(b.output, a.output, 1e-14);
    Matrix a_permuted = a.weights;
    for (std::size_t j = 0; j < 6; ++j)
      xt::view(a_permuted, xt::all(), j) = xt::view(a.weights, xt::all(), perm[j]);
    CHECK_CLOSE(b.weights, a_permuted, 1e-15);
  }

  TEST_CASE("q and k of different widths or k and v of different lengths are refused") {
    const Matrix q = xt::zeros<double>({2, 3});
    CHECK_THROWS_AS(scaled_dot_product_attention(q, xt::zeros<double>({4, 2}), xt::zeros<double>({4, 1})),
                    std::invalid_argument);
    CHECK_THROWS_AS(scaled_dot_product_attention(q, xt::zeros<double>({4, 3}), xt::zeros<double>({5, 1})),
                    std::invalid_argument);
  }

  TEST_CASE("matches PyTorch: small case (L 3, S 5, E 4, Ev 2)") {
    check_pytorch_case("small");
  }
  TEST_CASE("matches PyTorch: one query") {
    check_pytorch_case("one_query");
  }
  TEST_CASE("matches PyTorch: one key (its weight is 1)") {
    check_pytorch_case("one_key");
  }
  TEST_CASE("matches PyTorch: E 64") {
    check_pytorch_case("wide");
  }
  TEST_CASE("matches PyTorch: scores in the hundreds") {
    check_pytorch_case("large_scores");
  }
  TEST_CASE("matches PyTorch: float32 inputs") {
    check_pytorch_case("float32_inputs");
  }
}

// Chapter 10 — tests of rnn_forward and sensitivity, run against the reference and against your
// exercise (./course check 10): steps worked by hand, torch.nn.RNN (fixtures by
// chapters/10_attention_vs_rnn/make_fixtures.py) to 1e-9, causality, and finite differences of known functions.
#include "10_attention_vs_rnn/given.hpp"  // load_rnn
#include "pytorch.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <stdexcept>

using namespace course;

namespace {
void check_pytorch_case(const std::string& name) {
  const std::string dir = std::string(COURSE_CHAPTERS_DIR) + "/10_attention_vs_rnn/fixtures/" + name;
  const RnnFiles f = load_rnn(dir);
  const RnnResult r = rnn_forward(f.input, f.weights, f.h0);
  CHECK_CLOSE(r.output, load_matrix(dir, "output", "(L, H)"), 1e-9);
  CHECK_CLOSE(r.h_n, load_matrix(dir, "h_n", "(1, H)"), 1e-9);
}

RnnWeights scalar_rnn(double w_ih, double w_hh, double b_ih, double b_hh) {
  return {Matrix({{w_ih}}), Matrix({{w_hh}}), Vector({b_ih}), Vector({b_hh})};
}
}  // namespace

TEST_SUITE("10 attention vs RNN") {
  TEST_CASE("rnn_forward worked by hand: one unit, two steps") {
    // h1 = tanh(1 * 1 + 0.5 * 0 + 0.1 + 0.2) = tanh(1.3); h2 = tanh(1 * -1 + 0.5 h1 + 0.3)
    const RnnResult r = rnn_forward(Matrix({{1.0}, {-1.0}}), scalar_rnn(1.0, 0.5, 0.1, 0.2), Matrix({{0.0}}));
    const double h1 = std::tanh(1.3), h2 = std::tanh(-1.0 + 0.5 * h1 + 0.3);
    CHECK_CLOSE(r.output, Matrix({{h1}, {h2}}), 1e-15);
    CHECK_CLOSE(r.h_n, Matrix({{h2}}), 1e-15);
  }

  TEST_CASE("rnn_forward starts from h0") {
    // h1 = tanh(0 * x + 2 * h0) with h0 = 0.25
    const RnnResult r = rnn_forward(Matrix({{5.0}}), scalar_rnn(0.0, 2.0, 0.0, 0.0), Matrix({{0.25}}));
    CHECK_CLOSE(r.output, Matrix({{std::tanh(0.5)}}), 1e-15);
  }

  TEST_CASE("rnn_forward matches PyTorch: zero h0, with h0, 40 steps, one step, float32 files") {
    for (const std::string name : {"zero_h0", "with_h0", "long", "one_step", "float32"}) {
      CAPTURE(name);
      check_pytorch_case(name);
    }
  }

  TEST_CASE("rnn_forward is causal: changing input t leaves outputs before t unchanged") {
    Rng rng(1);
    const RnnWeights w{0.5 * rng.normal_matrix(4, 3), 0.5 * rng.normal_matrix(4, 4),
                       Vector(xt::zeros<double>({4})), Vector(xt::zeros<double>({4}))};
    const Matrix x = rng.normal_matrix(6, 3);
    Matrix changed = x;
    changed(3, 1) += 1.0;
    const Matrix h0 = xt::zeros<double>({1, 4});
    const RnnResult a = rnn_forward(x, w, h0), b = rnn_forward(changed, w, h0);
    CHECK_CLOSE(Matrix(xt::view(b.output, xt::range(0, 3), xt::all())),
                Matrix(xt::view(a.output, xt::range(0, 3), xt::all())), 0.0);
    CHECK(max_abs_diff(Vector(xt::view(b.output, 3, xt::all())), Vector(xt::view(a.output, 3, xt::all()))) >
          1e-6);
  }

  TEST_CASE("rnn_forward refuses shapes that do not fit") {
    const RnnWeights w{xt::zeros<double>({4, 3}), xt::zeros<double>({4, 4}), Vector(xt::zeros<double>({4})),
                       Vector(xt::zeros<double>({4}))};
    CHECK_THROWS_AS(rnn_forward(xt::zeros<double>({5, 2}), w, xt::zeros<double>({1, 4})),
                    std::invalid_argument);
    CHECK_THROWS_AS(rnn_forward(xt::zeros<double>({5, 3}), w, xt::zeros<double>({1, 3})),
                    std::invalid_argument);
  }

  TEST_CASE("rnn_forward refuses weight_hh_l0, biases and h0 that do not fit H") {
    // H = 4 (from weight_ih_l0), H_in = 3. load_rnn refuses such files first, so the program never
    // passes them; the function must refuse them too. weight_hh_l0 is checked on both axes.
    const RnnWeights good{xt::zeros<double>({4, 3}), xt::zeros<double>({4, 4}),
                          Vector(xt::zeros<double>({4})), Vector(xt::zeros<double>({4}))};
    const Matrix x = xt::zeros<double>({5, 3}), h0 = xt::zeros<double>({1, 4});
    REQUIRE_SHAPE(rnn_forward(x, good, h0).output, {5, 4});
    const auto refuses = [&](const char* what, const RnnWeights& w, const Matrix& h) {
      INFO(what);
      CHECK_THROWS_AS(rnn_forward(x, w, h), std::invalid_argument);
    };
    RnnWeights w = good;
    w.weight_hh_l0 = xt::zeros<double>({5, 4});
    refuses("weight_hh_l0 (H + 1, H)", w, h0);
    w.weight_hh_l0 = xt::zeros<double>({4, 5});
    refuses("weight_hh_l0 (H, H + 1)", w, h0);
    w = good;
    w.bias_ih_l0 = xt::zeros<double>({5});
    refuses("bias_ih_l0 (H + 1)", w, h0);
    w = good;
    w.bias_hh_l0 = xt::zeros<double>({5});
    refuses("bias_hh_l0 (H + 1)", w, h0);
    refuses("h0 (2, H)", good, xt::zeros<double>({2, 4}));
  }

  TEST_CASE("sensitivity of the identity is 1 for row 0 and 0 elsewhere") {
    Rng rng(2);
    const Vector s = sensitivity([](const Matrix& x) { return x; }, rng.normal_matrix(5, 4), 1e-3);
    CHECK_CLOSE(s, Vector({1, 0, 0, 0, 0}), 1e-12);
  }

  TEST_CASE("sensitivity of a running sum is 1 everywhere, of a doubled running sum 2") {
    // row t of the output = sum of rows 0..t: every output moves exactly as much as row 0
    const auto running_sum = [](const Matrix& x, double scale) {
      Matrix y = x;
      for (std::size_t t = 1; t < y.shape(0); ++t) xt::view(y, t, xt::all()) += xt::view(y, t - 1, xt::all());
      return Matrix(scale * y);
    };
    Rng rng(3);
    const Matrix x = rng.normal_matrix(4, 3);
    CHECK_CLOSE(sensitivity([&](const Matrix& m) { return running_sum(m, 1.0); }, x, 0.1),
                Vector({1, 1, 1, 1}), 1e-12);
    CHECK_CLOSE(sensitivity([&](const Matrix& m) { return running_sum(m, 2.0); }, x, 0.1),
                Vector({2, 2, 2, 2}), 1e-12);
  }

  TEST_CASE("sensitivity of tanh of row 0 is its derivative along (1, 1) / sqrt(2)") {
    // output row 0 = tanh(x row 0), others 0. Directional derivative along u = (1, 1)/sqrt(2):
    // |(1 - tanh²(a), 1 - tanh²(b)) / sqrt(2)|; central differences are accurate to O(eps²).
    const Matrix x = {{0.3, -0.7}, {1.0, 2.0}};
    const Vector s = sensitivity(
        [](const Matrix& m) {
          Matrix y = xt::zeros<double>(m.shape());
          for (std::size_t j = 0; j < 2; ++j) y(0, j) = std::tanh(m(0, j));
          return y;
        },
        x, 1e-5);
    const double da = 1 - std::tanh(0.3) * std::tanh(0.3), db = 1 - std::tanh(-0.7) * std::tanh(-0.7);
    CHECK_CLOSE(s, Vector({std::sqrt((da * da + db * db) / 2), 0.0}), 1e-9);
  }

  TEST_CASE("sensitivity refuses eps <= 0") {
    CHECK_THROWS_AS(sensitivity([](const Matrix& x) { return x; }, xt::zeros<double>({2, 2}), 0.0),
                    std::invalid_argument);
  }
}

// Chapter 15 — tests of additive_attention and rnn_backward, run against the reference and against your
// exercise (./course check 15): values worked by hand, the formula in plain loops, central differences
// (common/gradcheck.hpp), and PyTorch's autograd (fixtures by chapters/15_rnn_to_attention/make_fixtures.py) to 1e-9. The
// encoder–decoders are given code built on your two functions, so their gradient checks fail until both
// work. Tests of given code that does not call the exercises are in the "given:" suite.
#include "10_attention_vs_rnn/given.hpp"  // load_rnn
#include "15_rnn_to_attention/given.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <cmath>
#include <functional>
#include <stdexcept>

using namespace course;

namespace {
const std::string fixtures = std::string(COURSE_CHAPTERS_DIR) + "/15_rnn_to_attention/fixtures/";

AdditiveWeights random_additive(std::size_t A, std::size_t Dq, std::size_t Dk, Rng& rng) {
  AdditiveWeights w;
  w.W_q = rng.normal_matrix(A, Dq);
  w.W_k = rng.normal_matrix(A, Dk);
  const Matrix v = rng.normal_matrix(1, A);
  w.w_v = xt::view(v, 0, xt::all());
  return w;
}

RnnWeights random_rnn(std::size_t H_in, std::size_t H, Rng& rng) {
  RnnWeights w;
  w.weight_ih_l0 = rng.uniform_matrix(H, H_in, -0.7, 0.7);
  w.weight_hh_l0 = rng.uniform_matrix(H, H, -0.7, 0.7);
  const Matrix b = rng.uniform_matrix(2, H, -0.5, 0.5);
  w.bias_ih_l0 = xt::view(b, 0, xt::all());
  w.bias_hh_l0 = xt::view(b, 1, xt::all());
  return w;
}

// L = ⟨output, dO⟩ + ⟨h_n, dh_n⟩: the loss whose gradient rnn_backward computes.
double rnn_loss(const Matrix& x, const RnnWeights& w, const Matrix& h0, const Matrix& grad_output,
                const Matrix& grad_h_n) {
  const RnnResult r = rnn_forward(x, w, h0);
  return sum_of_products(r.output, grad_output) + sum_of_products(r.h_n, grad_h_n);
}

AdditiveWeights load_additive_weights(const std::string& dir) {
  return {load_matrix(dir, "W_q", "(A, Dq)"), load_matrix(dir, "W_k", "(A, Dk)"),
          load_vector(dir, "w_v", "(A)")};
}
}  // namespace

TEST_SUITE("15 rnn to attention") {
  // --- additive_attention ------------------------------------------------------------------------

  TEST_CASE("additive_attention: one query, two keys, worked by hand") {
    // W_q = W_k = (1), w_v = (2): e_j = 2 tanh(q + k_j); q = 0.5, keys -0.5 and 0.5 give e = (0, 2 tanh 1)
    const AdditiveWeights w{Matrix({{1.0}}), Matrix({{1.0}}), Vector({2.0})};
    const AdditiveAttentionResult r =
        additive_attention(Matrix({{0.5}}), Matrix({{-0.5}, {0.5}}), Matrix({{10.0, 0.0}, {0.0, 10.0}}), w);
    const double e1 = 2.0 * std::tanh(1.0), p1 = std::exp(e1) / (1.0 + std::exp(e1));
    CHECK_CLOSE(r.weights, Matrix({{1.0 - p1, p1}}), 1e-15);
    CHECK_CLOSE(r.output, Matrix({{10.0 * (1.0 - p1), 10.0 * p1}}), 1e-14);
  }

  TEST_CASE("additive_attention: queries and keys of different widths, against the formula in loops") {
    Rng rng(3);
    const std::size_t L = 3, S = 5, Dq = 4, Dk = 2, Dv = 3, A = 6;
    const Matrix q = rng.normal_matrix(L, Dq), k = rng.normal_matrix(S, Dk), v = rng.normal_matrix(S, Dv);
    const AdditiveWeights w = random_additive(A, Dq, Dk, rng);
    const AdditiveAttentionResult r = additive_attention(q, k, v, w);
    REQUIRE_SHAPE(r.weights, {L, S});
    REQUIRE_SHAPE(r.output, {L, Dv});
    Matrix e = Matrix::from_shape({L, S});
    for (std::size_t i = 0; i < L; ++i)
      for (std::size_t j = 0; j < S; ++j) {
        double s = 0;
        for (std::size_t a = 0; a < A; ++a) {
          double z = 0;
          for (std::size_t p = 0; p < Dq; ++p) z += w.W_q(a, p) * q(i, p);
          for (std::size_t p = 0; p < Dk; ++p) z += w.W_k(a, p) * k(j, p);
          s += w.w_v(a) * std::tanh(z);
        }
        e(i, j) = s;
      }
    const Matrix p = softmax_rows(e);
    CHECK_CLOSE(r.weights, p, 1e-14);
    CHECK_CLOSE(r.output, matmul(p, v), 1e-14);
  }

  TEST_CASE("additive_attention: w_v = 0 gives uniform weights, the mean of the values") {
    Rng rng(4);
    AdditiveWeights w = random_additive(3, 2, 2, rng);
    w.w_v = xt::zeros<double>({3});
    const Matrix v = rng.normal_matrix(4, 2);
    const AdditiveAttentionResult r =
        additive_attention(rng.normal_matrix(2, 2), rng.normal_matrix(4, 2), v, w);
    CHECK_CLOSE(r.weights, Matrix(xt::ones<double>({2, 4}) / 4.0), 1e-15);
    Matrix mean = xt::zeros<double>({2, 2});  // each output row: the mean of the 4 value rows
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 4; ++j)
        for (std::size_t c = 0; c < 2; ++c) mean(i, c) += v(j, c) / 4.0;
    CHECK_CLOSE(r.output, mean, 1e-15);
  }

  TEST_CASE("additive_attention agrees with PyTorch (fixtures)") {
    for (const char* name : {"small", "one_key", "large_scores"}) {
      CAPTURE(name);
      const std::string dir = fixtures + "additive_" + name;
      const AdditiveAttentionResult r =
          additive_attention(load_matrix(dir, "queries", "(L, Dq)"), load_matrix(dir, "keys", "(S, Dk)"),
                             load_matrix(dir, "values", "(S, Dv)"), load_additive_weights(dir));
      CHECK_CLOSE(r.output, load_matrix(dir, "output", "(L, Dv)"), 1e-9);
      CHECK_CLOSE(r.weights, load_matrix(dir, "weights", "(L, S)"), 1e-9);
    }
  }

  TEST_CASE("additive_attention refuses shapes that do not fit, on every axis") {
    Rng rng(5);
    const Matrix q = rng.normal_matrix(2, 3), k = rng.normal_matrix(4, 2), v = rng.normal_matrix(4, 5);
    const AdditiveWeights good = random_additive(6, 3, 2, rng);
    CHECK_NOTHROW(additive_attention(q, k, v, good));
    AdditiveWeights w = good;
    w.W_q = rng.normal_matrix(6, 2);  // Dq 2, queries 3
    CHECK_THROWS_AS(additive_attention(q, k, v, w), std::invalid_argument);
    w = good;
    w.W_k = rng.normal_matrix(5, 2);  // A 5, W_q's 6
    CHECK_THROWS_AS(additive_attention(q, k, v, w), std::invalid_argument);
    w = good;
    w.W_k = rng.normal_matrix(6, 3);  // Dk 3, keys 2
    CHECK_THROWS_AS(additive_attention(q, k, v, w), std::invalid_argument);
    w = good;
    w.w_v = xt::zeros<double>({5});
    CHECK_THROWS_AS(additive_attention(q, k, v, w), std::invalid_argument);
    CHECK_THROWS_AS(additive_attention(q, k, rng.normal_matrix(3, 5), good), std::invalid_argument);
  }

  TEST_CASE("additive_attention_backward (given) agrees with central differences of your forward") {
    Rng rng(6);
    Matrix q = rng.normal_matrix(3, 4), k = rng.normal_matrix(5, 2), v = rng.normal_matrix(5, 3);
    AdditiveWeights w = random_additive(6, 4, 2, rng);
    const Matrix dO = rng.normal_matrix(3, 3);
    const AdditiveAttentionResult r = additive_attention(q, k, v, w);
    const AdditiveGradients g = additive_attention_backward(q, k, v, w, r.weights, dO);
    const std::function<double()> loss = [&] {
      return sum_of_products(additive_attention(q, k, v, w).output, dO);
    };
    CHECK_GRADIENT(g.queries, numerical_gradient_in_place(q, loss, 1e-6), 1e-8);
    CHECK_GRADIENT(g.keys, numerical_gradient_in_place(k, loss, 1e-6), 1e-8);
    CHECK_GRADIENT(g.values, numerical_gradient_in_place(v, loss, 1e-6), 1e-8);
    CHECK_GRADIENT(g.W_q, numerical_gradient_in_place(w.W_q, loss, 1e-6), 1e-8);
    CHECK_GRADIENT(g.W_k, numerical_gradient_in_place(w.W_k, loss, 1e-6), 1e-8);
    CHECK_GRADIENT(g.w_v, numerical_gradient_in_place(w.w_v, loss, 1e-6), 1e-8);
  }

  // --- rnn_backward -----------------------------------------------------------------------------

  TEST_CASE("rnn_backward: one step of a 1 x 1 RNN worked by hand") {
    // h = tanh(w x + b_ih + u h0 + b_hh) with w = 0.5, u = -1, b_ih = 0.1, b_hh = 0.2, x = 2, h0 = 0.3:
    // a = 1 + 0.1 - 0.3 + 0.2 = 1; with dL/dh = 3: da = 3 (1 - tanh(1)²)
    const RnnWeights w{Matrix({{0.5}}), Matrix({{-1.0}}), Vector({0.1}), Vector({0.2})};
    const Matrix x({{2.0}}), h0({{0.3}});
    const RnnResult f = rnn_forward(x, w, h0);
    const RnnGradients g = rnn_backward(x, w, h0, f.output, Matrix({{3.0}}), Matrix({{0.0}}));
    const double h = std::tanh(1.0), da = 3.0 * (1.0 - h * h);
    CHECK_CLOSE(g.input, Matrix({{da * 0.5}}), 1e-15);
    CHECK_CLOSE(g.h0, Matrix({{-da}}), 1e-15);
    CHECK_CLOSE(g.weight_ih_l0, Matrix({{da * 2.0}}), 1e-15);
    CHECK_CLOSE(g.weight_hh_l0, Matrix({{da * 0.3}}), 1e-15);
    CHECK_CLOSE(g.bias_ih_l0, Vector({da}), 1e-15);
    CHECK_CLOSE(g.bias_hh_l0, Vector({da}), 1e-15);
  }

  TEST_CASE("rnn_backward: two steps of a 1 x 1 RNN, the gradient carried back through W_hh") {
    // only the last output has a gradient: dh_1 = da_2 u, so da_1 = da_2 u (1 - h_1²)
    const RnnWeights w{Matrix({{0.5}}), Matrix({{-1.0}}), Vector({0.0}), Vector({0.0})};
    const Matrix x({{1.0}, {2.0}}), h0({{0.0}});
    const RnnResult f = rnn_forward(x, w, h0);
    const RnnGradients g = rnn_backward(x, w, h0, f.output, Matrix({{0.0}, {1.0}}), Matrix({{0.0}}));
    const double h1 = std::tanh(0.5), h2 = std::tanh(1.0 - h1);
    const double da2 = 1.0 - h2 * h2, da1 = da2 * -1.0 * (1.0 - h1 * h1);
    CHECK_CLOSE(g.input, Matrix({{0.5 * da1}, {0.5 * da2}}), 1e-15);
    CHECK_CLOSE(g.weight_hh_l0, Matrix({{da2 * h1}}), 1e-15);  // h0 = 0: step 1 adds nothing
    CHECK_CLOSE(g.h0, Matrix({{-da1}}), 1e-15);
    CHECK_CLOSE(g.bias_hh_l0, Vector({da1 + da2}), 1e-15);
  }

  TEST_CASE("rnn_backward agrees with central differences, with gradients on the outputs and on h_n") {
    Rng rng(7);
    const std::size_t L = 5, H_in = 3, H = 4;
    Matrix x = rng.normal_matrix(L, H_in), h0 = rng.normal_matrix(1, H);
    RnnWeights w = random_rnn(H_in, H, rng);
    const Matrix dO = rng.normal_matrix(L, H), dh_n = rng.normal_matrix(1, H);
    const RnnResult f = rnn_forward(x, w, h0);
    const RnnGradients g = rnn_backward(x, w, h0, f.output, dO, dh_n);
    REQUIRE_SHAPE(g.input, {L, H_in});
    REQUIRE_SHAPE(g.h0, {1, H});
    REQUIRE_SHAPE(g.weight_ih_l0, {H, H_in});
    REQUIRE_SHAPE(g.weight_hh_l0, {H, H});
    REQUIRE_SHAPE(g.bias_ih_l0, {H});
    REQUIRE_SHAPE(g.bias_hh_l0, {H});
    const std::function<double()> loss = [&] { return rnn_loss(x, w, h0, dO, dh_n); };
    test::check_gradients(loss, 1e-8,
                          {{"input", g.input, x},
                           {"h0", g.h0, h0},
                           {"weight_ih_l0", g.weight_ih_l0, w.weight_ih_l0},
                           {"weight_hh_l0", g.weight_hh_l0, w.weight_hh_l0},
                           {"bias_ih_l0", g.bias_ih_l0, w.bias_ih_l0},
                           {"bias_hh_l0", g.bias_hh_l0, w.bias_hh_l0}});
  }

  TEST_CASE("rnn_backward: a gradient on h_n is the same as one on the last output row") {
    Rng rng(8);
    const Matrix x = rng.normal_matrix(4, 2), h0 = rng.normal_matrix(1, 3);
    const RnnWeights w = random_rnn(2, 3, rng);
    const RnnResult f = rnn_forward(x, w, h0);
    const Matrix dh_n = rng.normal_matrix(1, 3);
    Matrix dO = xt::zeros<double>({4, 3});
    xt::view(dO, 3, xt::all()) = xt::view(dh_n, 0, xt::all());
    const RnnGradients via_h_n = rnn_backward(x, w, h0, f.output, Matrix(xt::zeros<double>({4, 3})), dh_n);
    const RnnGradients via_output = rnn_backward(x, w, h0, f.output, dO, Matrix(xt::zeros<double>({1, 3})));
    CHECK_CLOSE(via_h_n.input, via_output.input, 1e-15);
    CHECK_CLOSE(via_h_n.h0, via_output.h0, 1e-15);
    CHECK_CLOSE(via_h_n.weight_hh_l0, via_output.weight_hh_l0, 1e-15);
    CHECK(max_abs_diff(via_h_n.input, Matrix(xt::zeros<double>({4, 2}))) > 0.0);
  }

  TEST_CASE("rnn_backward agrees with PyTorch's autograd (fixtures)") {
    for (const char* name : {"with_h0", "zero_h0", "one_step", "long", "float32"}) {
      CAPTURE(name);
      const std::string dir = fixtures + "rnn_" + name;
      const RnnFiles f = load_rnn(dir);
      const std::size_t H = f.h0.shape(1);
      const RnnResult r = rnn_forward(f.input, f.weights, f.h0);
      const RnnGradients g =
          rnn_backward(f.input, f.weights, f.h0, r.output, load_matrix(dir, "grad_output", "(L, H)"),
                       Matrix(xt::zeros<double>({std::size_t{1}, H})));
      test::check_pytorch_gradients(dir, 1e-9,
                                    {{"input", g.input},
                                     {"h0", g.h0},
                                     {"weight_ih_l0", g.weight_ih_l0},
                                     {"weight_hh_l0", g.weight_hh_l0},
                                     {"bias_ih_l0", g.bias_ih_l0},
                                     {"bias_hh_l0", g.bias_hh_l0}});
    }
  }

  TEST_CASE("rnn_backward refuses shapes that do not fit, on every array") {
    Rng rng(9);
    const std::size_t L = 3, H_in = 2, H = 4;
    const Matrix x = rng.normal_matrix(L, H_in), h0 = rng.normal_matrix(1, H);
    const RnnWeights good = random_rnn(H_in, H, rng);
    const Matrix out = rnn_forward(x, good, h0).output, dO = rng.normal_matrix(L, H);
    const Matrix dh_n = rng.normal_matrix(1, H);
    CHECK_NOTHROW(rnn_backward(x, good, h0, out, dO, dh_n));
    RnnWeights w = good;
    w.weight_ih_l0 = rng.normal_matrix(H, H_in + 1);
    CHECK_THROWS_AS(rnn_backward(x, w, h0, out, dO, dh_n), std::invalid_argument);
    w = good;
    w.weight_hh_l0 = rng.normal_matrix(H, H + 1);
    CHECK_THROWS_AS(rnn_backward(x, w, h0, out, dO, dh_n), std::invalid_argument);
    w = good;
    w.weight_hh_l0 = rng.normal_matrix(H + 1, H);
    CHECK_THROWS_AS(rnn_backward(x, w, h0, out, dO, dh_n), std::invalid_argument);
    w = good;
    w.bias_ih_l0 = xt::zeros<double>({H + 1});
    CHECK_THROWS_AS(rnn_backward(x, w, h0, out, dO, dh_n), std::invalid_argument);
    w = good;
    w.bias_hh_l0 = xt::zeros<double>({H - 1});
    CHECK_THROWS_AS(rnn_backward(x, w, h0, out, dO, dh_n), std::invalid_argument);
    CHECK_THROWS_AS(rnn_backward(x, good, rng.normal_matrix(1, H + 1), out, dO, dh_n), std::invalid_argument);
    CHECK_THROWS_AS(rnn_backward(x, good, rng.normal_matrix(2, H), out, dO, dh_n), std::invalid_argument);
    CHECK_THROWS_AS(rnn_backward(x, good, h0, rng.normal_matrix(L + 1, H), dO, dh_n), std::invalid_argument);
    CHECK_THROWS_AS(rnn_backward(x, good, h0, rng.normal_matrix(L, H + 1), dO, dh_n), std::invalid_argument);
    CHECK_THROWS_AS(rnn_backward(x, good, h0, out, rng.normal_matrix(L - 1, H), dh_n), std::invalid_argument);
    CHECK_THROWS_AS(rnn_backward(x, good, h0, out, rng.normal_matrix(L, H - 1), dh_n), std::invalid_argument);
    CHECK_THROWS_AS(rnn_backward(x, good, h0, out, dO, rng.normal_matrix(1, H + 1)), std::invalid_argument);
    CHECK_THROWS_AS(rnn_backward(x, good, h0, out, dO, rng.normal_matrix(2, H)), std::invalid_argument);
  }

  // --- the encoder–decoders (given code on both exercises) ----------------------------------------

  TEST_CASE("the three RNN encoder-decoders: every parameter's gradient agrees with central differences") {
    for (ContextKind kind : {ContextKind::fixed, ContextKind::additive, ContextKind::dot_product}) {
      CAPTURE(context_name(kind));
      Rng rng(10);
      const std::size_t D = 3, H = 4, A = kind == ContextKind::additive ? 3 : 0;
      Seq2SeqWeights w = init_seq2seq(D, H, A, rng);
      const std::vector<std::size_t> source = {3, 1, 4, 1}, targets = {1, 4, 1, 3, 7};
      const std::vector<std::size_t> fed = {kBos, 1, 4, 1, 3};
      const Seq2SeqForward f = seq2seq_forward(kind, w, source, fed);
      const Seq2SeqGradients g = seq2seq_backward(kind, w, f, softmax_cross_entropy(f.logits, targets).grad);
      const std::function<double()> loss = [&] {
        return softmax_cross_entropy(seq2seq_forward(kind, w, source, fed).logits, targets).loss;
      };
      Seq2SeqWeights analytic = g.weights;
      test::check_named_gradients(named_tensors(w), named_tensors(analytic), loss, 1e-8);
    }
  }

  TEST_CASE("greedy decoding repeats the teacher-forced forward when fed its own digits") {
    Rng rng(11);
    const Seq2SeqWeights w = init_seq2seq(4, 5, 3, rng);
    const std::vector<std::size_t> source = {9, 2, 6, 5, 3};
    const Seq2SeqPrediction p = seq2seq_greedy(ContextKind::additive, w, source, 5);
    REQUIRE(p.digits.size() == 5);
    std::vector<std::size_t> fed = {kBos};
    fed.insert(fed.end(), p.digits.begin(), p.digits.end() - 1);
    const Seq2SeqForward f = seq2seq_forward(ContextKind::additive, w, source, fed);
    CHECK_CLOSE(p.attention, f.attention, 1e-14);
    for (std::size_t t = 0; t < 5; ++t) {
      std::size_t best = 0;
      for (std::size_t v = 1; v < kDigits; ++v)
        if (f.logits(t, v) > f.logits(t, best)) best = v;
      CHECK(best == p.digits[t]);
    }
  }

  TEST_CASE("training is deterministic to the bit: two runs from one seed give the same losses and weights") {
    TrainConfig c;
    c.D = 2;
    c.H = 4;
    c.A = 3;
    c.n_max = 4;
    c.steps = 6;
    c.batch = 3;
    c.probe_every = 3;
    c.E = 4;
    c.F = 5;
    const TrainedModels ta = train_models(c), tb = train_models(c);
    const std::vector<TrainedModel>&a = ta.rnn, &b = tb.rnn;
    REQUIRE(a.size() == 3);
    REQUIRE(b.size() == 3);
    for (std::size_t k = 0; k < 3; ++k) {
      CAPTURE(context_name(a[k].kind));
      REQUIRE(a[k].losses.size() == 6);
      CHECK(a[k].losses == b[k].losses);
      CHECK(a[k].grad_first_input == b[k].grad_first_input);
      CHECK(max_abs_diff(a[k].weights.decoder.weight_hh_l0, b[k].weights.decoder.weight_hh_l0) == 0.0);
      CHECK(a[k].losses.back() < a[k].losses.front() + 1.0);  // finite, and not blown up
    }
    REQUIRE(ta.transformer.losses.size() == 6);
    CHECK(ta.transformer.losses == tb.transformer.losses);
    CHECK(ta.transformer.grad_first_input == tb.transformer.grad_first_input);
    CHECK(max_abs_diff(ta.transformer.weights.decoder.multihead_attn.in_proj_weight,
                       tb.transformer.weights.decoder.multihead_attn.in_proj_weight) == 0.0);
    c.seed = 43;
    const TrainedModels other = train_models(c);
    CHECK(other.rnn[0].losses != a[0].losses);
    CHECK(other.transformer.losses != ta.transformer.losses);
  }
}  // TEST_SUITE

TEST_SUITE("given: 15 rnn to attention") {
  TEST_CASE("additive_attention_backward (given) agrees with PyTorch's autograd (fixtures)") {
    for (const char* name : {"small", "one_key", "large_scores"}) {
      CAPTURE(name);
      const std::string dir = fixtures + "additive_" + name;
      const AdditiveGradients g = additive_attention_backward(
          load_matrix(dir, "queries", "(L, Dq)"), load_matrix(dir, "keys", "(S, Dk)"),
          load_matrix(dir, "values", "(S, Dv)"), load_additive_weights(dir),
          load_matrix(dir, "weights", "(L, S)"), load_matrix(dir, "grad_output", "(L, Dv)"));
      test::check_pytorch_gradients(dir, 1e-9,
                                    {{"queries", g.queries},
                                     {"keys", g.keys},
                                     {"values", g.values},
                                     {"W_q", g.W_q},
                                     {"W_k", g.W_k},
                                     {"w_v", g.w_v}});
    }
  }

  TEST_CASE("additive_attention_backward (given) refuses a grad_output of the wrong shape") {
    Rng rng(12);
    const AdditiveWeights w = random_additive(2, 3, 3, rng);
    const Matrix q = rng.normal_matrix(2, 3), k = rng.normal_matrix(4, 3), v = rng.normal_matrix(4, 2);
    const Matrix p = xt::ones<double>({2, 4}) / 4.0;
    CHECK_THROWS_AS(additive_attention_backward(q, k, v, w, p, rng.normal_matrix(2, 3)),
                    std::invalid_argument);
    CHECK_THROWS_AS(additive_attention_backward(q, k, v, w, p, rng.normal_matrix(3, 2)),
                    std::invalid_argument);
    CHECK_THROWS_AS(
        additive_attention_backward(q, k, v, w, Matrix(xt::ones<double>({2, 3})), rng.normal_matrix(2, 2)),
        std::invalid_argument);
  }

  TEST_CASE(
      "nadaraya_watson (given): weights sum to 1; a tiny bandwidth is the nearest neighbour, a huge one the "
      "mean") {
    const Vector x_train({0.0, 1.0, 2.0, 3.0}), y_train({5.0, -1.0, 2.0, 7.0});
    const KernelRegression r = nadaraya_watson(Vector({0.9, 2.2}), x_train, y_train, 1.0);
    for (std::size_t i = 0; i < 2; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < 4; ++j) s += r.weights(i, j);
      CHECK_NEAR(s, 1.0, 1e-15);
    }
    CHECK_CLOSE(nadaraya_watson(Vector({0.9, 2.2}), x_train, y_train, 1e-3).estimate, Vector({-1.0, 2.0}),
                1e-12);
    CHECK_CLOSE(nadaraya_watson(Vector({0.9}), x_train, y_train, 1e6).estimate, Vector({13.0 / 4.0}), 1e-9);
    CHECK_THROWS_AS(nadaraya_watson(Vector({0.0}), x_train, y_train, 0.0), std::invalid_argument);
    CHECK_THROWS_AS(nadaraya_watson(Vector({0.0}), x_train, Vector({1.0}), 1.0), std::invalid_argument);
  }

  TEST_CASE("init_seq2seq (given): with and without attention, the shared weights are the same") {
    Rng a(5), b(5);
    const Seq2SeqWeights without = init_seq2seq(3, 4, 0, a), with = init_seq2seq(3, 4, 6, b);
    CHECK(with.attention.w_v.size() == 6);
    CHECK(without.attention.w_v.size() == 0);
    CHECK(max_abs_diff(with.embed_in, without.embed_in) == 0.0);
    CHECK(max_abs_diff(with.decoder.weight_hh_l0, without.decoder.weight_hh_l0) == 0.0);
    CHECK(max_abs_diff(with.W_out, without.W_out) == 0.0);
    CHECK(max_abs_diff(with.b_out, without.b_out) == 0.0);
    CHECK(parameter_count(with) == parameter_count(without) + 6 * (2 * 4 + 1));
  }

  TEST_CASE("model (d) (given): every parameter's gradient agrees with central differences") {
    Rng rng(12);
    TransformerWeights w = init_transformer(4, 6, 2, rng);
    // move the norms off 1 and 0, so their gradients are tested away from the starting point too
    for (const NamedTensor& t : named_tensors(w))
      if (t.name.find("norm") != std::string::npos)
        for (std::size_t i = 0; i < t.size; ++i) t.data[i] += 0.3 * rng.normal();
    const std::vector<std::size_t> source = {3, 1, 4}, targets = {4, 1, 3, 7}, fed = {kBos, 4, 1, 3};
    const TransformerForward f = transformer_forward(w, source, fed);
    const TransformerGradients g = transformer_backward(w, f, softmax_cross_entropy(f.logits, targets).grad);
    const std::function<double()> loss = [&] {
      return softmax_cross_entropy(transformer_forward(w, source, fed).logits, targets).loss;
    };
    TransformerWeights analytic = g.weights;
    const std::vector<NamedTensor> params = named_tensors(w);
    CHECK(params.size() == 1 + 12 + 1 + 18 + 2);
    test::check_named_gradients(params, named_tensors(analytic), loss, 1e-7);
  }

  TEST_CASE(
      "model (d) (given): the causal mask keeps each step from later inputs; greedy = teacher forcing") {
    Rng rng(13);
    const TransformerWeights w = init_transformer(4, 6, 2, rng);
    const std::vector<std::size_t> source = {9, 2, 6, 5};
    const TransformerForward a = transformer_forward(w, source, {kBos, 1, 2, 3});
    const TransformerForward b = transformer_forward(w, source, {kBos, 1, 7, 0});
    // steps 0 and 1 read only <bos>, 1: their logits are the same to the bit; step 2 differs
    for (std::size_t t = 0; t < 2; ++t)
      for (std::size_t v = 0; v < kDigits; ++v) CHECK(a.logits(t, v) == b.logits(t, v));
    CHECK(std::abs(a.logits(2, 0) - b.logits(2, 0)) > 1e-6);
    const Seq2SeqPrediction p = transformer_greedy(w, source, 4);
    REQUIRE(p.digits.size() == 4);
    std::vector<std::size_t> fed = {kBos};
    fed.insert(fed.end(), p.digits.begin(), p.digits.end() - 1);
    const TransformerForward f = transformer_forward(w, source, fed);
    for (std::size_t t = 0; t < 4; ++t) CHECK(argmax_rows(f.logits)[t] == p.digits[t]);
    for (std::size_t t = 0; t < 4; ++t) {
      double s = 0;
      for (std::size_t j = 0; j < 4; ++j) s += p.attention(t, j);
      CHECK_NEAR(s, 1.0, 1e-14);
    }
    CHECK_THROWS_AS(transformer_forward(w, {}, {kBos}), std::invalid_argument);
    CHECK_THROWS_AS(transformer_forward(w, {10}, {kBos}), std::invalid_argument);
    CHECK_THROWS_AS(init_transformer(5, 6, 2, rng), std::invalid_argument);
  }

  TEST_CASE("held_out_strings and training_batch (given): the test strings are never trained on") {
    Rng rng(7);
    // at most half of the 10^n strings are held out, all distinct and of length n
    CHECK(held_out_strings(1, 100, rng).size() == 5);
    CHECK(held_out_strings(2, 100, rng).size() == 50);
    const std::vector<ReversalExample> three = held_out_strings(3, 100, rng);
    CHECK(three.size() == 100);
    DigitSet held;
    for (const ReversalExample& e : three) {
      CHECK(e.source.size() == 3);
      CHECK(e.target == std::vector<std::size_t>(e.source.rbegin(), e.source.rend()));
      held.insert(e.source);
    }
    CHECK(held.size() == 100);
    // with every 1-digit string but 3 excluded, each 1-digit string of a batch is a 3
    DigitSet all_but_three;
    for (std::size_t d = 0; d < kDigits; ++d)
      if (d != 3) all_but_three.insert({d});
    std::size_t ones = 0;
    for (const ReversalExample& e : training_batch(2, 200, all_but_three, rng)) {
      CHECK(e.source.size() >= 1);
      CHECK(e.source.size() <= 2);
      if (e.source.size() == 1) {
        CHECK(e.source == std::vector<std::size_t>{3});
        ++ones;
      }
    }
    CHECK(ones > 50);  // about half of 200 are 1-digit strings
    // the held-out 3-digit strings never come out of a batch of 1..3 digits
    for (const ReversalExample& e : training_batch(3, 2000, held, rng)) CHECK(held.count(e.source) == 0);
  }
}  // TEST_SUITE

// Chapter 13 — tests of softmax_backward and attention_backward, run against the reference and against
// your exercise (./course check 13): values worked by hand, the full Jacobian, central differences
// (common/gradcheck.hpp), exact zeros where a mask forbids, and PyTorch's autograd (fixtures by
// chapters/13_backpropagation/make_fixtures.py) to 1e-9. The multi-head backward is given code built on your
// attention_backward, so its tests fail until attention_backward works. Tests of given code that
// does not call the exercises (linear_backward, the gradient check itself) are in the "given:" suite.
#include "04_masking/given.hpp"  // load_attention_layer
#include "13_backpropagation/given.hpp"
#include "pytorch.hpp"  // load_attention_inputs
#include "rng.hpp"
#include "test_util.hpp"

#include <functional>
#include <stdexcept>

using namespace course;

namespace {
const std::string fixtures = std::string(COURSE_CHAPTERS_DIR) + "/13_backpropagation/fixtures/";

// L = ⟨masked_attention(q, k, v, mask).output, dO⟩: the loss whose gradient attention_backward computes.
double attention_loss(const Matrix& q, const Matrix& k, const Matrix& v, const BoolMatrix& mask,
                      const Matrix& grad_output) {
  return sum_of_products(masked_attention(q, k, v, mask).output, grad_output);
}

// attention_backward against central differences, for q, k and v.
void check_attention_gradients(const Matrix& q, const Matrix& k, const Matrix& v, const BoolMatrix& mask,
                               const Matrix& grad_output) {
  const AttentionResult forward = masked_attention(q, k, v, mask);
  const AttentionGradients g = attention_backward(q, k, v, forward.weights, grad_output);
  REQUIRE_SHAPE(g.q, {q.shape(0), q.shape(1)});
  REQUIRE_SHAPE(g.k, {k.shape(0), k.shape(1)});
  REQUIRE_SHAPE(g.v, {v.shape(0), v.shape(1)});
  // the gradients by central differences: dL/dq, dL/dk, dL/dv
  const Matrix numerical_q = numerical_gradient(
      [&](const Matrix& x) { return attention_loss(x, k, v, mask, grad_output); }, q, 1e-6);
  const Matrix numerical_k = numerical_gradient(
      [&](const Matrix& x) { return attention_loss(q, x, v, mask, grad_output); }, k, 1e-6);
  const Matrix numerical_v = numerical_gradient(
      [&](const Matrix& x) { return attention_loss(q, k, x, mask, grad_output); }, v, 1e-6);
  CHECK_GRADIENT(g.q, numerical_q, 1e-8);
  CHECK_GRADIENT(g.k, numerical_k, 1e-8);
  CHECK_GRADIENT(g.v, numerical_v, 1e-8);
}

// One row's Jacobian of the softmax: J[j][k] = p_j (δ_jk − p_k) = diag(p) − p pᵀ.
Matrix softmax_jacobian(const Matrix& p, std::size_t row) {
  const std::size_t m = p.shape(1);
  Matrix j = Matrix::from_shape({m, m});
  for (std::size_t a = 0; a < m; ++a)
    for (std::size_t b = 0; b < m; ++b) j(a, b) = (a == b ? p(row, a) : 0.0) - p(row, a) * p(row, b);
  return j;
}

// Exactly 0.0 everywhere (a -0.0 counts as 0).
template <class T>
bool all_exactly_zero(const T& t) {
  for (const double x : t)
    if (x != 0.0) return false;
  return true;
}

// The multi-head case of a fixture directory, and the parameters as one struct.
struct MultiHeadCase {
  AttentionLayerFiles files;
  MultiHeadWeights w;
  std::size_t heads = 0;
  Matrix grad_output;
};

MultiHeadCase load_multi_head_case(const std::string& dir) {
  MultiHeadCase c;
  c.files = load_attention_layer(dir);
  c.w = {c.files.in_proj_weight, c.files.in_proj_bias, c.files.out_proj_weight, c.files.out_proj_bias};
  c.heads = test::fixture_args(dir).count("--heads");
  c.grad_output = load_matrix(dir, "grad_output", "(L, E)");
  return c;
}

// Every gradient of the multi-head backward against central differences, one tensor at a time, each
// perturbed in place inside the weights or inputs while the loss re-runs the forward.
void check_multi_head_gradients(Matrix query, Matrix key, Matrix value, MultiHeadWeights w, std::size_t heads,
                                const BoolMatrix& mask, const Matrix& grad_output) {
  const MultiHeadGradients g = multi_head_attention_backward(query, key, value, w, heads, mask, grad_output);
  const std::function<double()> loss = [&] {
    return sum_of_products(multi_head_attention(query, key, value, w, heads, mask).output, grad_output);
  };
  test::check_gradients(loss, 1e-8,
                        {{"query", g.query, query},
                         {"key", g.key, key},
                         {"value", g.value, value},
                         {"in_proj_weight", g.in_proj_weight, w.in_proj_weight},
                         {"in_proj_bias", g.in_proj_bias, w.in_proj_bias},
                         {"out_proj_weight", g.out_proj_weight, w.out_proj_weight},
                         {"out_proj_bias", g.out_proj_bias, w.out_proj_bias}});
}
}  // namespace

TEST_SUITE("13 backpropagation") {
  // --- softmax_backward -------------------------------------------------------------------------

  TEST_CASE("softmax_backward: a 1 x 2 softmax worked by hand") {
    // p = (1/4, 3/4), g = (1, 0): ⟨g, p⟩ = 1/4, so grad_s = (1/4 (1 − 1/4), 3/4 (0 − 1/4)) = (3/16, −3/16)
    CHECK_CLOSE(softmax_backward(Matrix({{0.25, 0.75}}), Matrix({{1.0, 0.0}})),
                Matrix({{3.0 / 16, -3.0 / 16}}), 0.0);
    // g = (0, 2): ⟨g, p⟩ = 3/2, so grad_s = (1/4 (0 − 3/2), 3/4 (2 − 3/2)) = (−3/8, 3/8)
    CHECK_CLOSE(softmax_backward(Matrix({{0.25, 0.75}}), Matrix({{0.0, 2.0}})), Matrix({{-0.375, 0.375}}),
                0.0);
  }

  TEST_CASE("softmax_backward equals the full Jacobian diag(p) - p p^T times g, row by row") {
    Rng rng(1);
    const Matrix p = softmax_rows(rng.normal_matrix(4, 5));
    const Matrix g = rng.normal_matrix(4, 5);
    const Matrix grad_s = softmax_backward(p, g);
    REQUIRE_SHAPE(grad_s, {4, 5});
    for (std::size_t i = 0; i < 4; ++i) {
      CAPTURE(i);
      const Matrix g_row = xt::view(g, xt::range(i, i + 1), xt::all());
      const Matrix jacobian_times_g = xt::transpose(matmul(softmax_jacobian(p, i), xt::transpose(g_row)));
      CHECK_CLOSE(Matrix(xt::view(grad_s, xt::range(i, i + 1), xt::all())), jacobian_times_g, 1e-15);
    }
  }

  TEST_CASE("softmax_backward agrees with central differences of <softmax_rows(s), g>") {
    Rng rng(2);
    const Matrix s = rng.normal_matrix(3, 6);
    const Matrix g = rng.normal_matrix(3, 6);
    const Matrix analytic = softmax_backward(softmax_rows(s), g);
    const Matrix numerical =
        numerical_gradient([&](const Matrix& x) { return sum_of_products(softmax_rows(x), g); }, s, 1e-6);
    CHECK_GRADIENT(analytic, numerical, 1e-9);
  }

  TEST_CASE("softmax_backward: each row of grad_s sums to 0, and adding a constant to g changes nothing") {
    // Σ_j p_j (g_j − ⟨g, p⟩) = ⟨g, p⟩ − ⟨g, p⟩ Σ_j p_j = 0; g + c gives p ⊙ (g + c − ⟨g, p⟩ − c) = the same
    Rng rng(3);
    const Matrix p = softmax_rows(rng.normal_matrix(5, 4));
    const Matrix g = rng.normal_matrix(5, 4);
    const Matrix grad_s = softmax_backward(p, g);
    const Vector sums = xt::sum(grad_s, {1});
    CHECK_CLOSE(sums, Vector(xt::zeros<double>({5})), 1e-15);
    CHECK_CLOSE(softmax_backward(p, Matrix(g + 7.5)), grad_s, 1e-14);
  }

  TEST_CASE(
      "softmax_backward: zero probabilities get exactly 0, a row of zeros too, in the first and last "
      "column") {
    // row 0: masked keys in the first and the last column; row 1: a fully masked row (all p = 0)
    const Matrix p = {{0.0, 0.5, 0.5, 0.0}, {0.0, 0.0, 0.0, 0.0}};
    const Matrix g = {{3.0, -1.0, 2.0, 5.0}, {1.0, 2.0, 3.0, 4.0}};
    const Matrix grad_s = softmax_backward(p, g);
    REQUIRE_SHAPE(grad_s, {2, 4});
    CHECK(grad_s(0, 0) == 0.0);
    CHECK(grad_s(0, 3) == 0.0);
    CHECK(all_exactly_zero(xt::view(grad_s, 1, xt::all())));
    // the allowed entries: ⟨g, p⟩ = 0.5, so 0.5 (−1 − 0.5) and 0.5 (2 − 0.5)
    CHECK(grad_s(0, 1) == -0.75);
    CHECK(grad_s(0, 2) == 0.75);
  }

  TEST_CASE("softmax_backward refuses p and grad_p of different shapes") {
    const Matrix p = {{0.5, 0.5}};
    CHECK_THROWS_AS(softmax_backward(p, Matrix({{1.0, 2.0, 3.0}})), std::invalid_argument);
    CHECK_THROWS_AS(softmax_backward(p, Matrix({{1.0, 2.0}, {3.0, 4.0}})), std::invalid_argument);
  }

  // --- attention_backward -----------------------------------------------------------------------

  TEST_CASE("attention_backward worked by hand: one query, two keys, d_k = 4") {
    // q·k = 2 for both keys, scores 2 / √4 = 1 each, so P = (1/2, 1/2). With v = (1, 3) and dO = 1:
    //   dv = Pᵀ dO = (1/2, 1/2);  dP = dO vᵀ = (1, 3);  ⟨dP, P⟩ = 2;  dS = (1/2 (1 − 2), 1/2 (3 − 2)) = (−1/2, 1/2)
    //   dq = dS k / 2 = (−1/2 (1, 1, 0, 0) + 1/2 (1, −1, 0, 0)) / 2 = (0, −1/2, 0, 0)
    //   dk = dSᵀ q / 2 = (−1/2 (2, 0, 0, 0), 1/2 (2, 0, 0, 0)) / 2 = ((−1/2, 0, 0, 0), (1/2, 0, 0, 0))
    const Matrix q = {{2, 0, 0, 0}};
    const Matrix k = {{1, 1, 0, 0}, {1, -1, 0, 0}};
    const Matrix v = {{1}, {3}};
    const Matrix p = {{0.5, 0.5}};
    const AttentionGradients g = attention_backward(q, k, v, p, Matrix({{1.0}}));
    CHECK_CLOSE(g.v, Matrix({{0.5}, {0.5}}), 0.0);
    CHECK_CLOSE(g.q, Matrix({{0, -0.5, 0, 0}}), 0.0);
    CHECK_CLOSE(g.k, Matrix({{-0.5, 0, 0, 0}, {0.5, 0, 0, 0}}), 0.0);
  }

  TEST_CASE("attention_backward agrees with central differences (L != S, d_k != d_v)") {
    Rng rng(4);
    const Matrix q = rng.normal_matrix(3, 4), k = rng.normal_matrix(5, 4), v = rng.normal_matrix(5, 2);
    check_attention_gradients(q, k, v, no_mask(3, 5), rng.normal_matrix(3, 2));
  }

  TEST_CASE(
      "attention_backward agrees with central differences under a causal mask, with one key and one query") {
    Rng rng(5);
    const Matrix q = rng.normal_matrix(5, 3), k = rng.normal_matrix(5, 3), v = rng.normal_matrix(5, 4);
    check_attention_gradients(q, k, v, causal_mask(5), rng.normal_matrix(5, 4));
    // edge sizes: a single key (P = 1, so dq and dk are 0) and a single query
    const Matrix k1 = rng.normal_matrix(1, 3), v1 = rng.normal_matrix(1, 4);
    check_attention_gradients(q, k1, v1, no_mask(5, 1), rng.normal_matrix(5, 4));
    const Matrix q1 = rng.normal_matrix(1, 3);
    check_attention_gradients(q1, k, v, no_mask(1, 5), rng.normal_matrix(1, 4));
  }

  TEST_CASE("attention_backward: a key every query masks gets exactly 0 in dk and dv") {
    // key 0 and key 3 (the first and the last) are padding for every query
    Rng rng(6);
    const Matrix q = rng.normal_matrix(3, 4), k = rng.normal_matrix(4, 4), v = rng.normal_matrix(4, 2);
    const BoolMatrix mask = padding_mask(BoolVector({true, false, false, true}), 3);
    const AttentionResult forward = masked_attention(q, k, v, mask);
    const AttentionGradients g = attention_backward(q, k, v, forward.weights, rng.normal_matrix(3, 2));
    REQUIRE_SHAPE(g.k, {4, 4});
    REQUIRE_SHAPE(g.v, {4, 2});
    for (std::size_t j : {0, 3}) {
      CAPTURE(j);
      CHECK(all_exactly_zero(xt::view(g.k, j, xt::all())));
      CHECK(all_exactly_zero(xt::view(g.v, j, xt::all())));
    }
    CHECK(!all_exactly_zero(xt::view(g.k, 1, xt::all())));  // the keys that are attended do get a gradient
  }

  TEST_CASE(
      "attention_backward: a fully masked query row gets exactly 0 in dq and sends nothing to dk or dv") {
    // Causal mask with key 0 as padding: query 0 may see only key 0, which is padding, so its row is
    // fully masked (weights 0, output 0).
    Rng rng(7);
    const Matrix q = rng.normal_matrix(4, 3), k = rng.normal_matrix(4, 3), v = rng.normal_matrix(4, 2);
    const BoolMatrix mask =
        combine_masks(causal_mask(4), padding_mask(BoolVector({true, false, false, false}), 4));
    const AttentionResult forward = masked_attention(q, k, v, mask);
    Matrix grad_output = rng.normal_matrix(4, 2);
    const AttentionGradients g = attention_backward(q, k, v, forward.weights, grad_output);
    REQUIRE_SHAPE(g.q, {4, 3});
    CHECK(all_exactly_zero(xt::view(g.q, 0, xt::all())));
    // whatever reaches the fully masked row's output does not matter: dk and dv are the same bits
    grad_output(0, 0) = 1e6;
    grad_output(0, 1) = -3e5;
    const AttentionGradients again = attention_backward(q, k, v, forward.weights, grad_output);
    CHECK_CLOSE(again.k, g.k, 0.0);
    CHECK_CLOSE(again.v, g.v, 0.0);
    CHECK_CLOSE(again.q, g.q, 0.0);
    // and the rest still agrees with central differences
    check_attention_gradients(q, k, v, mask, grad_output);
  }

  TEST_CASE("attention_backward: the 1/sqrt(d_k) reaches dq and dk (d_k = 16)") {
    // Scaling q by c scales the scores by c; check dq and dk against central differences where d_k is
    // large enough that a missing or doubled 1/√d_k = 1/4 shows.
    Rng rng(8);
    const Matrix q = rng.normal_matrix(2, 16), k = rng.normal_matrix(3, 16), v = rng.normal_matrix(3, 3);
    check_attention_gradients(q, k, v, no_mask(2, 3), rng.normal_matrix(2, 3));
  }

  TEST_CASE("attention_backward refuses shapes that do not fit, every argument on every axis") {
    const Matrix q = xt::zeros<double>({2, 3}), k = xt::zeros<double>({4, 3}), v = xt::zeros<double>({4, 5});
    const Matrix p = xt::zeros<double>({2, 4}), d_o = xt::zeros<double>({2, 5});
    CHECK_NOTHROW(attention_backward(q, k, v, p, d_o));
    CHECK_THROWS_AS(attention_backward(q, Matrix(xt::zeros<double>({4, 2})), v, p, d_o),
                    std::invalid_argument);
    CHECK_THROWS_AS(attention_backward(q, k, Matrix(xt::zeros<double>({3, 5})), p, d_o),
                    std::invalid_argument);
    CHECK_THROWS_AS(attention_backward(q, k, v, Matrix(xt::zeros<double>({3, 4})), d_o),
                    std::invalid_argument);
    CHECK_THROWS_AS(attention_backward(q, k, v, Matrix(xt::zeros<double>({2, 3})), d_o),
                    std::invalid_argument);
    CHECK_THROWS_AS(attention_backward(q, k, v, p, Matrix(xt::zeros<double>({3, 5}))), std::invalid_argument);
    CHECK_THROWS_AS(attention_backward(q, k, v, p, Matrix(xt::zeros<double>({2, 4}))), std::invalid_argument);
  }

  TEST_CASE("attention_backward agrees with PyTorch's autograd (scaled dot-product fixtures)") {
    for (const char* name : {"sdpa_small", "sdpa_one_query", "sdpa_one_key", "sdpa_causal",
                             "sdpa_large_scores", "sdpa_float32"}) {
      CAPTURE(name);
      const std::string dir = fixtures + name;
      const AttentionInputs in = load_attention_inputs(dir);
      const Matrix grad_output = load_matrix(dir, "grad_output", "(L, Ev)");
      const std::size_t L = in.query.shape(0), S = in.key.shape(0);
      const bool causal = test::fixture_args(dir).has("--causal");
      const AttentionResult forward =
          masked_attention(in.query, in.key, in.value, causal ? causal_mask(L) : no_mask(L, S));
      CHECK_CLOSE(forward.weights, load_matrix(dir, "weights", "(L, S)"), 1e-12);
      const AttentionGradients g =
          attention_backward(in.query, in.key, in.value, forward.weights, grad_output);
      test::check_pytorch_gradients(dir, 1e-9, {{"query", g.q}, {"key", g.k}, {"value", g.v}});
    }
  }

  // --- the multi-head backward (given code on attention_backward) -------------------------------

  TEST_CASE("multi-head backward: every input and parameter agrees with central differences (H = 1, 2, 4)") {
    Rng rng(9);
    const std::size_t E = 4;
    for (std::size_t heads : {1, 2, 4}) {
      CAPTURE(heads);
      const MultiHeadWeights w = random_multi_head_weights(rng, E);
      const Matrix query = rng.normal_matrix(3, E), key = rng.normal_matrix(5, E),
                   value = rng.normal_matrix(5, E);
      check_multi_head_gradients(query, key, value, w, heads, no_mask(3, 5), rng.normal_matrix(3, E));
    }
  }

  TEST_CASE("multi-head backward with a causal mask and a fully masked row agrees with central differences") {
    Rng rng(10);
    const std::size_t E = 6;
    const MultiHeadWeights w = random_multi_head_weights(rng, E);
    const Matrix x = rng.normal_matrix(4, E);
    const BoolMatrix mask =
        combine_masks(causal_mask(4), padding_mask(BoolVector({true, false, false, false}), 4));
    const Matrix grad_output = rng.normal_matrix(4, E);
    check_multi_head_gradients(x, x, x, w, 3, mask, grad_output);
    // the fully masked query 0 sends nothing back through attention: its query gradient is exactly 0
    const MultiHeadGradients g = multi_head_attention_backward(x, x, x, w, 3, mask, grad_output);
    CHECK(all_exactly_zero(xt::view(g.query, 0, xt::all())));
  }

  TEST_CASE("multi-head self-attention: the gradient of x is the sum of the query, key and value gradients") {
    Rng rng(11);
    const std::size_t E = 4;
    const MultiHeadWeights w = random_multi_head_weights(rng, E);
    const Matrix x = rng.normal_matrix(3, E), grad_output = rng.normal_matrix(3, E);
    const MultiHeadGradients g = multi_head_attention_backward(x, x, x, w, 2, no_mask(3, 3), grad_output);
    const Matrix sum = g.query + g.key + g.value;
    const Matrix numerical = numerical_gradient(
        [&](const Matrix& y) {
          return sum_of_products(multi_head_attention(y, y, y, w, 2, no_mask(3, 3)).output, grad_output);
        },
        x, 1e-6);
    CHECK_GRADIENT(sum, numerical, 1e-8);
  }

  TEST_CASE("multi-head backward agrees with PyTorch's autograd (torch.nn.MultiheadAttention fixtures)") {
    for (const char* name : {"mha_self_attention", "mha_l_differs_from_s", "mha_one_head", "mha_causal",
                             "mha_key_padding", "mha_float32"}) {
      CAPTURE(name);
      const std::string dir = fixtures + name;
      const MultiHeadCase c = load_multi_head_case(dir);
      const AttentionLayerFiles& f = c.files;
      const MultiHeadForward forward =
          multi_head_attention_forward(f.query, f.key, f.value, c.w, c.heads, f.mask);
      CHECK_CLOSE(forward.output, load_matrix(dir, "attn_output", "(L, E)"), 1e-12);
      const MultiHeadGradients g = multi_head_attention_backward(forward.saved, c.w, c.grad_output);
      test::check_pytorch_gradients(dir, 1e-9,
                                    {{"query", g.query},
                                     {"key", g.key},
                                     {"value", g.value},
                                     {"in_proj_weight", g.in_proj_weight},
                                     {"in_proj_bias", g.in_proj_bias},
                                     {"out_proj.weight", g.out_proj_weight},
                                     {"out_proj.bias", g.out_proj_bias}});
    }
  }
}  // TEST_SUITE

// Given code that does not call the exercises: it passes against the stubs too, so this suite is left
// out of the stubs-must-fail check (CONTRIBUTING.md, "Given code").
TEST_SUITE("given: 13 backpropagation") {
  TEST_CASE("linear_backward worked by hand") {
    // y = x Wᵀ + b with x (2, 3), W (2, 3); dY (2, 2)
    const Matrix x = {{1, 2, 3}, {4, 5, 6}};
    const Matrix w = {{1, 0, -1}, {2, 1, 0}};
    const Matrix grad_y = {{1, 0}, {-1, 2}};
    const LinearGradients g = linear_backward(x, w, grad_y);
    // dx = dY W: row 0 = 1 (1, 0, −1) = (1, 0, −1); row 1 = −(1, 0, −1) + 2 (2, 1, 0) = (3, 2, 1)
    CHECK_CLOSE(g.x, Matrix({{1, 0, -1}, {3, 2, 1}}), 0.0);
    // dW = dYᵀ x: row 0 = 1 (1, 2, 3) − (4, 5, 6) = (−3, −3, −3); row 1 = 2 (4, 5, 6) = (8, 10, 12)
    CHECK_CLOSE(g.weight, Matrix({{-3, -3, -3}, {8, 10, 12}}), 0.0);
    // db = column sums of dY = (0, 2)
    CHECK_CLOSE(g.bias, Vector({0, 2}), 0.0);
  }

  TEST_CASE("linear_backward agrees with central differences for x, W and b") {
    Rng rng(20);
    Matrix x = rng.normal_matrix(4, 3), w = rng.normal_matrix(5, 3);
    Vector b = xt::view(rng.normal_matrix(1, 5), 0, xt::all());
    const Matrix grad_y = rng.normal_matrix(4, 5);
    const LinearGradients g = linear_backward(x, w, grad_y);
    const std::function<double()> loss = [&] { return sum_of_products(linear(x, w, b), grad_y); };
    test::check_gradients(loss, 1e-9, {{"x", g.x, x}, {"weight", g.weight, w}, {"bias", g.bias, b}});
  }

  TEST_CASE("linear_backward refuses shapes that do not fit") {
    const Matrix x = xt::zeros<double>({2, 3}), w = xt::zeros<double>({4, 3}),
                 d_y = xt::zeros<double>({2, 4});
    CHECK_NOTHROW(linear_backward(x, w, d_y));
    CHECK_THROWS_AS(linear_backward(x, Matrix(xt::zeros<double>({4, 2})), d_y), std::invalid_argument);
    CHECK_THROWS_AS(linear_backward(x, w, Matrix(xt::zeros<double>({3, 4}))), std::invalid_argument);
    CHECK_THROWS_AS(linear_backward(x, w, Matrix(xt::zeros<double>({2, 5}))), std::invalid_argument);
  }

  TEST_CASE("sum_of_products is the sum of a * b and refuses different shapes") {
    CHECK(sum_of_products(Matrix({{1, 2}, {3, 4}}), Matrix({{5, 6}, {7, 8}})) == 70.0);
    CHECK_THROWS_AS(sum_of_products(Matrix({{1, 2}}), Matrix({{1}, {2}})), std::invalid_argument);
  }

  TEST_CASE(
      "multi_head_attention_forward gives chapter 05's output bit for bit and keeps what backward needs") {
    Rng rng(21);
    const std::size_t E = 8, L = 3, S = 5, H = 2;
    const MultiHeadWeights w = random_multi_head_weights(rng, E);
    const Matrix query = rng.normal_matrix(L, E), key = rng.normal_matrix(S, E),
                 value = rng.normal_matrix(S, E);
    const BoolMatrix mask = padding_mask(BoolVector({false, true, false, false, false}), L);
    const MultiHeadForward f = multi_head_attention_forward(query, key, value, w, H, mask);
    const MultiHeadResult r = multi_head_attention(query, key, value, w, H, mask);
    CHECK_CLOSE(f.output, r.output, 0.0);
    CHECK_CLOSE(f.saved.weights, r.weights, 0.0);
    REQUIRE_SHAPE(f.saved.q_heads, {H, L, E / H});
    REQUIRE_SHAPE(f.saved.k_heads, {H, S, E / H});
    REQUIRE_SHAPE(f.saved.merged, {L, E});
    // inputs L·E + 2 S·E, projected heads the same again, P H·L·S, merged L·E; 8 bytes each
    CHECK(f.saved.bytes() == 8.0 * (2 * (L * E + 2 * S * E) + H * L * S + L * E));
  }

  TEST_CASE("multi-head backward refuses a grad_output or weights that do not fit") {
    Rng rng(22);
    const MultiHeadWeights w = random_multi_head_weights(rng, 4);
    const Matrix x = rng.normal_matrix(3, 4);
    const MultiHeadForward f = multi_head_attention_forward(x, x, x, w, 2, no_mask(3, 3));
    CHECK_THROWS_AS(multi_head_attention_backward(f.saved, w, Matrix(xt::zeros<double>({3, 5}))),
                    std::invalid_argument);
    CHECK_THROWS_AS(multi_head_attention_backward(f.saved, w, Matrix(xt::zeros<double>({2, 4}))),
                    std::invalid_argument);
    const MultiHeadWeights wider = random_multi_head_weights(rng, 6);
    CHECK_THROWS_AS(multi_head_attention_backward(f.saved, wider, Matrix(xt::zeros<double>({3, 4}))),
                    std::invalid_argument);
    CHECK_THROWS_AS(multi_head_attention_forward(x, x, x, w, 3, no_mask(3, 3)), std::invalid_argument);
  }

  // --- the gradient check itself (common/gradcheck.hpp) -------------------------------------------

  TEST_CASE("gradcheck: central differences of sum(x^3) are 3 x^2, for a Vector, a Matrix and a Tensor3") {
    // (x+ε)³ − (x−ε)³ = 6x²ε + 2ε³, so the central difference is 3x² + ε² exactly (in exact arithmetic)
    const double eps = 1e-4;
    const Vector v = {0.5, -1.0, 2.0};
    const Vector gv =
        numerical_gradient([](const Vector& x) { return double(xt::sum(x * x * x)()); }, v, eps);
    CHECK_CLOSE(gv, Vector(3.0 * v * v + eps * eps), 1e-9);
    Rng rng(23);
    const Matrix m = rng.normal_matrix(2, 3);
    const Matrix gm =
        numerical_gradient([](const Matrix& x) { return double(xt::sum(x * x * x)()); }, m, eps);
    CHECK_CLOSE(gm, Matrix(3.0 * m * m + eps * eps), 1e-9);
    Tensor3 t = Tensor3::from_shape({2, 2, 2});
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = 0.25 * static_cast<double>(i) - 1.0;
    const Tensor3 gt =
        numerical_gradient([](const Tensor3& x) { return double(xt::sum(x * x * x)()); }, t, eps);
    CHECK_CLOSE(gt, Tensor3(3.0 * t * t + eps * eps), 1e-9);
  }

  TEST_CASE("gradcheck: numerical_gradient_in_place perturbs one entry at a time and puts every entry back") {
    Matrix w = {{0.1, 0.2}, {0.3, 0.4}};
    const Matrix before = w;
    std::vector<double> seen;  // w(1, 0) at every call: only the entry being perturbed moves
    const Matrix g = numerical_gradient_in_place(w, std::function<double()>([&] {
                                                   seen.push_back(w(1, 0));
                                                   return 2.0 * w(0, 1) + w(1, 0) * w(1, 0);
                                                 }),
                                                 0.125);
    CHECK_CLOSE(w, before, 0.0);  // bit for bit
    CHECK(seen.size() == 8);      // 2 calls per entry
    CHECK(seen[4] == 0.3 + 0.125);
    CHECK(seen[5] == 0.3 - 0.125);
    CHECK(seen[0] == 0.3);
    CHECK_CLOSE(g, Matrix({{0, 2}, {0.6, 0}}), 1e-15);
  }

  TEST_CASE(
      "gradcheck: compare_gradients measures absolute and floored relative errors and never passes a NaN") {
    const GradcheckResult r = compare_gradients(std::vector<double>{1.0, 100.0, 1e-9},
                                                std::vector<double>{1.0 + 1e-6, 100.0 + 1e-3, 0.0});
    CHECK(r.entries == 3);
    CHECK(r.max_abs_error == doctest::Approx(1e-3).epsilon(1e-9));
    // 1e-3 / 100 = 1e-5 relative for the large entry; 1e-6 for the first; the tiny one is floored at 1
    CHECK(r.max_rel_error == doctest::Approx(1e-5).epsilon(1e-9));
    CHECK(r.worst == 1);
    CHECK(r.passed(2e-5));
    CHECK(!r.passed(1e-6));
    // a smaller floor judges the tiny entry by its size: 1e-9 / 1e-9 = 1
    CHECK(compare_gradients(std::vector<double>{1e-9}, std::vector<double>{0.0}, 1e-12).max_rel_error == 1.0);
    const GradcheckResult nan =
        compare_gradients(std::vector<double>{0.0, NAN}, std::vector<double>{0.0, 0.0});
    CHECK(!nan.passed(1.0));
    CHECK_THROWS_AS(compare_gradients(std::vector<double>{1.0}, std::vector<double>{1.0, 2.0}),
                    std::invalid_argument);
    CHECK_THROWS_AS(compare_gradients(Matrix({{1.0, 2.0}}), Matrix({{1.0}, {2.0}})), std::invalid_argument);
    CHECK_THROWS_AS(compare_gradients(std::vector<double>{1.0}, std::vector<double>{1.0}, 0.0),
                    std::invalid_argument);
  }

  TEST_CASE("gradcheck: refuses a step that is zero, negative or not finite") {
    const Matrix x = {{1.0}};
    const auto f = [](const Matrix& m) { return m(0, 0); };
    CHECK_THROWS_AS(numerical_gradient(f, x, 0.0), std::invalid_argument);
    CHECK_THROWS_AS(numerical_gradient(f, x, -1e-6), std::invalid_argument);
    CHECK_THROWS_AS(numerical_gradient(f, x, INFINITY), std::invalid_argument);
    CHECK_THROWS_AS(numerical_gradient(f, x, NAN), std::invalid_argument);
  }

  TEST_CASE("gradcheck: a wrong gradient fails, the right one passes") {
    Rng rng(24);
    const Matrix x = rng.normal_matrix(3, 3);
    const auto loss = [](const Matrix& m) { return double(xt::sum(xt::sin(m))()); };
    const Matrix right = xt::cos(x);
    Matrix wrong = right;
    wrong(2, 1) *= 1.001;  // one entry off by 0.1 %
    CHECK(gradcheck(loss, x, right).passed(1e-8));
    CHECK(!gradcheck(loss, x, wrong).passed(1e-8));
    CHECK(gradcheck(loss, x, wrong).worst == 7);
  }
}  // TEST_SUITE

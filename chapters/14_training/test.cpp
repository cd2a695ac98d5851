// Chapter 14 — tests of layer_norm_backward and adamw_step, run against the reference and against your
// exercise (./course check 14): values worked by hand, central differences (common/gradcheck.hpp), and
// PyTorch (fixtures by chapters/14_training/make_fixtures.py) to 1e-9. The encoder layer's backward, the optimizer
// and the training step are given code built on your two functions, so their tests fail until both
// work. Tests of given code that does not call them (the losses, the forward pass, accuracy) are in
// the "given:" suite.
#include "11_transformer_block/given.hpp"  // load_encoder_layer
#include "14_training/given.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <functional>
#include <stdexcept>

using namespace course;

namespace {
const std::string fixtures = std::string(COURSE_CHAPTERS_DIR) + "/14_training/fixtures/";

// Every gradient of the encoder layer (src and the twelve parameters) against central differences of
// ⟨encoder_layer_forward(src).output, dY⟩, on B sequences stacked.
void check_encoder_layer_gradients(std::size_t B, std::size_t L, std::size_t E, std::size_t H, std::size_t F,
                                   bool norm_first, Activation act, std::uint64_t seed) {
  Rng rng(seed);
  EncoderLayerWeights w = random_encoder_layer(rng, E, F);
  Matrix src = rng.normal_matrix(B * L, E);
  const Matrix grad_output = rng.normal_matrix(B * L, E);
  const BoolMatrix mask = xt::zeros<bool>({L, L});
  const EncoderLayerForward f = encoder_layer_forward(src, L, w, H, norm_first, act, mask);
  EncoderLayerGradients g = encoder_layer_backward(f.saved, w, grad_output);
  const std::function<double()> loss = [&] {
    return sum_of_products(encoder_layer_forward(src, L, w, H, norm_first, act, mask).output, grad_output);
  };
  CHECK_GRADIENT(g.src, numerical_gradient_in_place(src, loss, 1e-6), 1e-7);
  const std::vector<NamedTensor> params = named_tensors(w);
  REQUIRE(params.size() == 12);
  test::check_named_gradients(params, named_tensors(g.weights), loss, 1e-7);
}

// A PyTorch encoder-layer case (grad_*): weights, src, grad_output and the flags.
struct GradCase {
  EncoderLayerWeights w;
  Matrix src, grad_output;
  std::size_t heads = 0;
  bool norm_first = false;
};

GradCase load_grad_case(const std::string& dir) {
  GradCase c;
  c.w = load_encoder_layer(dir);
  c.src = load_matrix(dir, "src", "(L, E)");
  c.grad_output = load_matrix(dir, "grad_output", "(L, E)");
  const test::FixtureArgs args = test::fixture_args(dir);
  c.heads = args.count("--heads");
  c.norm_first = args.has("--norm-first");
  return c;
}

// The reversal task: each target sequence is its input backwards.
Batch reversal_batch(Rng& rng, std::size_t B, std::size_t L) {
  Batch b;
  for (std::size_t s = 0; s < B; ++s) {
    std::vector<std::size_t> digits(L);
    for (std::size_t& d : digits) d = rng.below(10);
    for (std::size_t i = 0; i < L; ++i) {
      b.inputs.push_back(digits[i]);
      b.targets.push_back(digits[L - 1 - i]);
    }
  }
  return b;
}

std::vector<double> train_losses(std::uint64_t seed, std::size_t steps) {
  Rng rng(seed);
  TinyEncoderConfig config;
  config.seq_len = 5;
  config.d_model = 8;
  config.d_ff = 12;
  config.n_layers = 2;
  TinyEncoder model = random_tiny_encoder(rng, config);
  AdamW optimizer(AdamWOptions{3e-3, 0.9, 0.999, 1e-8, 0.01});
  std::vector<double> losses;
  for (std::size_t s = 0; s < steps; ++s)
    losses.push_back(train_step(model, optimizer, reversal_batch(rng, 6, 5)));
  return losses;
}

}  // namespace

TEST_SUITE("14 training") {
  // --- layer_norm_backward ----------------------------------------------------------------------

  // layer_norm_backward on the μ and rstd that layer_norm_forward (given code) keeps for x
  LayerNormGradients backward_of(const Matrix& x, const Vector& gamma, double eps, const Matrix& grad_y) {
    LayerNormActivations saved;
    layer_norm_forward(x, gamma, Vector(xt::zeros<double>({gamma.size()})), saved, eps);
    return layer_norm_backward(x, saved.mean, saved.rstd, gamma, grad_y);
  }

  TEST_CASE("layer_norm_backward worked by hand: x = (1, 2, 3), g = (1, 0, 0), eps = 0") {
    // μ = 2, σ = √(2/3), x̂ = (−√1.5, 0, √1.5); ĝ = g (γ = 1): mean(ĝ) = 1/3, mean(ĝ ⊙ x̂) = −√1.5 / 3
    // dx = (ĝ − 1/3 − x̂ (−√1.5 / 3)) / σ = ((1 − 1/3 − 1/2), −1/3, (−1/3 + 1/2)) √1.5
    //    = (1/6, −1/3, 1/6) √1.5
    const double s = std::sqrt(1.5);
    const LayerNormGradients g =
        backward_of(Matrix({{1, 2, 3}}), Vector({1, 1, 1}), 0.0, Matrix({{1, 0, 0}}));
    REQUIRE_SHAPE(g.x, {1, 3});
    CHECK_CLOSE(g.x, Matrix({{s / 6, -s / 3, s / 6}}), 1e-15);
    CHECK_CLOSE(g.weight, Vector({-s, 0, 0}), 1e-15);
    CHECK_CLOSE(g.bias, Vector({1, 0, 0}), 0.0);
  }

  TEST_CASE("layer_norm_backward: γ scales the gradient that reaches x; dβ and dγ sum over the rows") {
    // two equal rows: dβ and dγ are twice one row's; γ = 2 doubles dx (ĝ = 2 g)
    const Matrix x = {{1, 2, 3}, {1, 2, 3}};
    const Matrix g = {{1, 0, 0}, {1, 0, 0}};
    const LayerNormGradients one = backward_of(x, Vector({1, 1, 1}), 0.0, g);
    const LayerNormGradients two = backward_of(x, Vector({2, 2, 2}), 0.0, g);
    CHECK_CLOSE(two.x, Matrix(2.0 * one.x), 1e-15);
    CHECK_CLOSE(one.bias, Vector({2, 0, 0}), 0.0);
    CHECK_CLOSE(one.weight, Vector({-2 * std::sqrt(1.5), 0, 0}), 1e-14);
    CHECK_CLOSE(two.weight, one.weight, 0.0);
  }

  TEST_CASE("layer_norm_backward agrees with central differences for x, γ and β") {
    Rng rng(1);
    Matrix x = 2.0 * rng.normal_matrix(4, 6) + 1.0;
    Vector gamma = xt::view(rng.uniform_matrix(1, 6, 0.5, 1.5), 0);
    Vector beta = xt::view(rng.uniform_matrix(1, 6, -0.5, 0.5), 0);
    const Matrix g = rng.normal_matrix(4, 6);
    const double eps = 1e-5;
    const LayerNormGradients a = backward_of(x, gamma, eps, g);
    const std::function<double()> loss = [&] { return sum_of_products(layer_norm(x, gamma, beta, eps), g); };
    CHECK_GRADIENT(a.x, numerical_gradient_in_place(x, loss, 1e-6), 1e-8);
    CHECK_GRADIENT(a.weight, numerical_gradient_in_place(gamma, loss, 1e-6), 1e-8);
    CHECK_GRADIENT(a.bias, numerical_gradient_in_place(beta, loss, 1e-6), 1e-8);
  }

  TEST_CASE("layer_norm_backward: adding 1e8 to a row changes no gradient (σ from x − μ, not x² − μ²)") {
    // Layer norm sees x − μ only, so a row shifted by 1e8 has the same x̂ and the same gradients. The
    // variance must be computed from x − μ: Σ x² − E μ² (or Σ x (x − μ)) is the same number on paper,
    // but at 1e8 each x² is rounded to a multiple of 2 while the true Σ (x − μ)² is 2/3.
    const Matrix x = {{0, 1, 1}, {2, 0, 1}};
    const Matrix shifted = x + 1e8;
    const Vector gamma = {1.5, 0.5, 1};
    const Matrix g = {{1, -2, 0.5}, {0.25, 1, -1}};
    const LayerNormGradients a = backward_of(x, gamma, 1e-5, g);
    const LayerNormGradients b = backward_of(shifted, gamma, 1e-5, g);
    // x − μ is exact at 1e8 but μ = 1e8 + 2/3 is rounded (by at most 7.5e-9): agreement to 1e-7
    CHECK_CLOSE(b.x, a.x, 1e-7);
    CHECK_CLOSE(b.weight, a.weight, 1e-7);
    CHECK_CLOSE(b.bias, a.bias, 0.0);
  }

  TEST_CASE("layer_norm_backward: each row of dx sums to 0, and is orthogonal to x − μ when eps = 0") {
    Rng rng(2);
    const Matrix x = rng.normal_matrix(5, 7);
    const Vector gamma = xt::view(rng.uniform_matrix(1, 7, 0.5, 1.5), 0);
    const LayerNormGradients a = backward_of(x, gamma, 1e-5, rng.normal_matrix(5, 7));
    const Vector sums = xt::sum(a.x, {1});
    CHECK_CLOSE(sums, Vector(xt::zeros<double>({5})), 1e-14);
    // with eps = 0, scaling a row changes nothing either: each row of dx is orthogonal to its x − μ
    const LayerNormGradients b = backward_of(x, gamma, 0.0, rng.normal_matrix(5, 7));
    for (std::size_t i = 0; i < 5; ++i) {
      double mean = 0.0, dot = 0.0;
      for (std::size_t j = 0; j < 7; ++j) mean += x(i, j) / 7.0;
      for (std::size_t j = 0; j < 7; ++j) dot += b.x(i, j) * (x(i, j) - mean);
      CHECK_NEAR(dot, 0.0, 1e-13);
    }
  }

  TEST_CASE("layer_norm_backward matches PyTorch's autograd (torch.nn.functional.layer_norm)") {
    const std::string dir = fixtures + "layer_norm";
    const Matrix x = load_matrix(dir, "x", "(n, E)");
    const LayerNormGradients a =
        backward_of(x, load_vector(dir, "weight", "(E)"), 1e-5, load_matrix(dir, "grad_output", "(n, E)"));
    CHECK_CLOSE(a.x, load_matrix(dir, "x.grad", "(n, E)"), 1e-9);
    CHECK_CLOSE(a.weight, load_vector(dir, "weight.grad", "(E)"), 1e-9);
    CHECK_CLOSE(a.bias, load_vector(dir, "bias.grad", "(E)"), 1e-9);
  }

  TEST_CASE("layer_norm_backward refuses a μ, rstd, γ or grad_y that does not fit x") {
    const Matrix x = {{1, 2, 3}, {4, 5, 7}};
    const Vector gamma = {1, 1, 1}, mean = {2, 16.0 / 3}, rstd = {1, 1};
    CHECK_THROWS_AS(layer_norm_backward(x, mean, rstd, Vector({1, 1}), x), std::invalid_argument);
    CHECK_THROWS_AS(layer_norm_backward(x, mean, rstd, Vector({1, 1, 1, 1}), x), std::invalid_argument);
    CHECK_THROWS_AS(layer_norm_backward(x, mean, rstd, gamma, Matrix({{1, 2, 3}})), std::invalid_argument);
    CHECK_THROWS_AS(layer_norm_backward(x, mean, rstd, gamma, Matrix({{1, 2}, {3, 4}})),
                    std::invalid_argument);
    CHECK_THROWS_AS(layer_norm_backward(x, Vector({2}), rstd, gamma, x), std::invalid_argument);
    CHECK_THROWS_AS(layer_norm_backward(x, mean, Vector({1, 1, 1}), gamma, x), std::invalid_argument);
  }

  // --- adamw_step -------------------------------------------------------------------------------

  TEST_CASE("adamw_step at t = 1 worked by hand: m̂ = g and v̂ = g², so each entry moves by about lr") {
    // lr = 0.1, λ = 0.1: decay 1 − 0.01; then p − 0.1 · g / (|g| + ε)
    const AdamWOptions o{0.1, 0.9, 0.999, 1e-8, 0.1};
    std::vector<double> p = {1.0, -2.0, 3.0}, g = {0.5, -40.0, 0.0};
    AdamWMoments moments{{0, 0, 0}, {0, 0, 0}};
    adamw_step(p.data(), g.data(), 3, moments, 1, o);
    CHECK_NEAR(p[0], (0.99 - 0.1 * 0.5 / (0.5 + 1e-8)), 1e-15);
    CHECK_NEAR(p[1], (-1.98 + 0.1 * 40.0 / (40.0 + 1e-8)), 1e-15);
    CHECK(p[2] == 3.0 * 0.99);  // no gradient: only the decay
    // the moments after one step: (1 − β₁) g and (1 − β₂) g²
    CHECK_NEAR(moments.m[1], 0.1 * -40.0, 1e-15);
    CHECK_NEAR(moments.v[1], 0.001 * 1600.0, 1e-13);
  }

  TEST_CASE("adamw_step at t = 2 worked by hand, with bias correction") {
    // g = 1 then 3, β₁ = 0.5, β₂ = 0.5, λ = 0: m = 0.5 then 1.75; v = 0.5 then 4.75;
    // m̂ = 1.75 / 0.75, v̂ = 4.75 / 0.75; p₂ = p₁ − lr m̂ / (√v̂ + ε)
    const AdamWOptions o{0.01, 0.5, 0.5, 0.0, 0.0};
    std::vector<double> p = {0.0};
    AdamWMoments moments{{0.0}, {0.0}};
    const std::vector<double> g1 = {1.0}, g2 = {3.0};
    adamw_step(p.data(), g1.data(), 1, moments, 1, o);
    CHECK_NEAR(p[0], -0.01, 1e-17);
    adamw_step(p.data(), g2.data(), 1, moments, 2, o);
    CHECK_NEAR(moments.m[0], 1.75, 1e-15);
    CHECK_NEAR(moments.v[0], 4.75, 1e-15);
    CHECK_NEAR(p[0], (-0.01 - 0.01 * (1.75 / 0.75) / std::sqrt(4.75 / 0.75)), 1e-15);
  }

  TEST_CASE("adamw_step matches torch.optim.AdamW over six steps (default and other options)") {
    for (const char* name : {"adamw_default", "adamw_custom"}) {
      CAPTURE(name);
      const std::string dir = fixtures + name;
      Matrix p = load_matrix(dir, "p0", "(3, 4)");
      const Tensor3 grads = load_tensor3(dir, "grads", "(S, 3, 4)");
      const Tensor3 params = load_tensor3(dir, "params", "(S, 3, 4)");
      const Vector o = load_vector(dir, "options", "(5)");
      const AdamWOptions options{o(0), o(1), o(2), o(3), o(4)};
      AdamWMoments moments{std::vector<double>(12, 0.0), std::vector<double>(12, 0.0)};
      for (std::size_t s = 0; s < grads.shape(0); ++s) {
        CAPTURE(s);
        adamw_step(p, Matrix(xt::view(grads, s, xt::all(), xt::all())), moments, s + 1, options);
        CHECK_CLOSE(p, Matrix(xt::view(params, s, xt::all(), xt::all())), 1e-14);
      }
    }
  }

  TEST_CASE("adamw_step refuses t = 0 and moments of the wrong length; the tensor overload other shapes") {
    std::vector<double> p = {1.0, 2.0}, g = {0.1, 0.2};
    AdamWMoments ok{{0, 0}, {0, 0}}, short_m{{0}, {0, 0}}, short_v{{0, 0}, {0}};
    CHECK_THROWS_AS(adamw_step(p.data(), g.data(), 2, ok, 0, AdamWOptions{}), std::invalid_argument);
    CHECK_THROWS_AS(adamw_step(p.data(), g.data(), 2, short_m, 1, AdamWOptions{}), std::invalid_argument);
    CHECK_THROWS_AS(adamw_step(p.data(), g.data(), 2, short_v, 1, AdamWOptions{}), std::invalid_argument);
    Matrix pm = {{1, 2}}, gm = {{1}, {2}};
    CHECK_THROWS_AS(adamw_step(pm, gm, ok, 1, AdamWOptions{}), std::invalid_argument);
    adamw_step(pm, Matrix({{1, 2}}), ok, 1, AdamWOptions{});  // the right shape is fine
    CHECK(pm(0, 0) < 1.0);
  }

  TEST_CASE("AdamW keeps t and one pair of moments per parameter, and refuses a changed parameter list") {
    Vector a = {1.0, 2.0}, ga = {1.0, -1.0};
    Matrix b = {{3.0}}, gb = {{0.5}};
    const auto params = [&] {
      return std::vector<NamedTensor>{{"a", {2}, a.data(), 2}, {"b", {1, 1}, b.data(), 1}};
    };
    const auto grads = [&] {
      return std::vector<NamedTensor>{{"a", {2}, ga.data(), 2}, {"b", {1, 1}, gb.data(), 1}};
    };
    AdamW optimizer(AdamWOptions{0.1, 0.9, 0.999, 1e-8, 0.0});
    // two steps with the same gradients: m̂ = g and v̂ = g² both times, so each entry moves 0.1 twice
    optimizer.step(params(), grads());
    optimizer.step(params(), grads());
    CHECK(optimizer.steps() == 2);
    CHECK_CLOSE(a, Vector({0.8, 2.2}), 1e-8);
    CHECK_CLOSE(b, Matrix({{2.8}}), 1e-8);
    std::vector<NamedTensor> renamed = params();
    renamed[1].name = "c";
    CHECK_THROWS_AS(optimizer.step(renamed, grads()), std::invalid_argument);
    CHECK_THROWS_AS(optimizer.step({params()[0]}, {grads()[0]}), std::invalid_argument);
  }

  // --- the encoder layer's backward (given code on layer_norm_backward) ---------------------------

  TEST_CASE("encoder_layer_backward (post-norm) agrees with central differences, two sequences") {
    check_encoder_layer_gradients(2, 3, 4, 2, 6, false, Activation::relu, 3);
  }

  TEST_CASE("encoder_layer_backward (pre-norm) agrees with central differences, two sequences") {
    check_encoder_layer_gradients(2, 3, 4, 2, 6, true, Activation::relu, 4);
  }

  TEST_CASE(
      "encoder_layer_backward with exact GELU (pre-norm, chapter 16's) agrees with central differences") {
    check_encoder_layer_gradients(1, 4, 6, 3, 5, true, Activation::gelu, 5);
  }

  TEST_CASE("encoder_layer_backward matches PyTorch's autograd (post- and pre-norm, 1, 2 and 4 heads)") {
    for (const char* name :
         {"grad_post_norm", "grad_pre_norm", "grad_post_norm_4_heads", "grad_pre_norm_1_head"}) {
      CAPTURE(name);
      const std::string dir = fixtures + name;
      GradCase c = load_grad_case(dir);
      const std::size_t L = c.src.shape(0);
      const EncoderLayerForward f = encoder_layer_forward(c.src, L, c.w, c.heads, c.norm_first,
                                                          Activation::relu, xt::zeros<bool>({L, L}));
      CHECK_CLOSE(f.output, load_matrix(dir, "output", "(L, E)"), 1e-9);
      EncoderLayerGradients g = encoder_layer_backward(f.saved, c.w, c.grad_output);
      CHECK_CLOSE(g.src, load_matrix(dir, "src.grad", "(L, E)"), 1e-9);
      for (const NamedTensor& t : named_tensors(g.weights)) {
        CAPTURE(t.name);
        const NpyArray want = read_npy(dir + "/" + t.name + ".grad.npy", t.name + ".grad.npy");
        REQUIRE(want.shape == t.shape);
        CHECK_CLOSE(flat_entries(t), want.values, 1e-9);
      }
    }
  }

  TEST_CASE("encoder_layer_backward of a batch equals each sequence's alone, parameter gradients summed") {
    Rng rng(6);
    const std::size_t L = 3, E = 4;
    const EncoderLayerWeights w = random_encoder_layer(rng, E, 5);
    const Matrix src = rng.normal_matrix(2 * L, E), dy = rng.normal_matrix(2 * L, E);
    const BoolMatrix mask = xt::zeros<bool>({L, L});
    EncoderLayerGradients both = encoder_layer_backward(
        encoder_layer_forward(src, L, w, 2, false, Activation::relu, mask).saved, w, dy);
    Matrix src_grad = Matrix::from_shape({2 * L, E});
    EncoderLayerWeights sum = both.weights;
    for (NamedTensor& t : named_tensors(sum)) std::fill(t.data, t.data + t.size, 0.0);
    for (std::size_t b = 0; b < 2; ++b) {
      const Matrix s = xt::view(src, xt::range(b * L, (b + 1) * L), xt::all());
      const Matrix d = xt::view(dy, xt::range(b * L, (b + 1) * L), xt::all());
      EncoderLayerGradients one = encoder_layer_backward(
          encoder_layer_forward(s, L, w, 2, false, Activation::relu, mask).saved, w, d);
      xt::view(src_grad, xt::range(b * L, (b + 1) * L), xt::all()) = one.src;
      const std::vector<NamedTensor> from = named_tensors(one.weights), to = named_tensors(sum);
      for (std::size_t i = 0; i < from.size(); ++i)
        for (std::size_t j = 0; j < from[i].size; ++j) to[i].data[j] += from[i].data[j];
    }
    CHECK_CLOSE(both.src, src_grad, 1e-14);
    const std::vector<NamedTensor> got = named_tensors(both.weights), want = named_tensors(sum);
    for (std::size_t i = 0; i < got.size(); ++i) {
      CAPTURE(got[i].name);
      CHECK_CLOSE(flat_entries(got[i]), flat_entries(want[i]), 1e-13);
    }
  }

  TEST_CASE("encoder_layer_backward refuses a grad_output of the wrong shape") {
    Rng rng(7);
    const EncoderLayerWeights w = random_encoder_layer(rng, 4, 5);
    const EncoderLayerForward f = encoder_layer_forward(rng.normal_matrix(3, 4), 3, w, 2, false,
                                                        Activation::relu, xt::zeros<bool>({3, 3}));
    CHECK_THROWS_AS(encoder_layer_backward(f.saved, w, rng.normal_matrix(3, 5)), std::invalid_argument);
    CHECK_THROWS_AS(encoder_layer_backward(f.saved, w, rng.normal_matrix(4, 4)), std::invalid_argument);
    // and the right one works (so the throws above are about the shape)
    CHECK_NOTHROW(encoder_layer_backward(f.saved, w, rng.normal_matrix(3, 4)));
  }

  // --- the tiny encoder, trained ----------------------------------------------------------------

  TEST_CASE(
      "tiny_encoder_backward agrees with central differences of the cross-entropy (post- and pre-norm)") {
    for (const bool norm_first : {false, true}) {
      CAPTURE(norm_first);
      Rng rng(8);
      // vocab, seq_len, d_model, n_heads, d_ff, n_layers, norm_first
      const TinyEncoderConfig config{5, 3, 4, 2, 6, 2, norm_first};
      TinyEncoder model = random_tiny_encoder(rng, config);
      const Batch batch = reversal_batch(rng, 2, 3);
      Batch small = batch;
      for (std::size_t& t : small.inputs) t %= 5;
      for (std::size_t& t : small.targets) t %= 5;
      const TinyEncoderForward f = tiny_encoder_forward(model, small.inputs);
      TinyEncoder g = tiny_encoder_backward(model, f, softmax_cross_entropy(f.logits, small.targets).grad);
      const std::function<double()> loss = [&] {
        return softmax_cross_entropy(tiny_encoder_forward(model, small.inputs).logits, small.targets).loss;
      };
      test::check_named_gradients(named_tensors(model), named_tensors(g), loss, 1e-7);
    }
  }

  TEST_CASE("the first training steps' losses equal PyTorch's to 1e-9, the weights after them to 1e-8") {
    const std::string dir = fixtures + "first_steps";
    const test::FixtureArgs args = test::fixture_args(dir);
    TinyEncoder model = load_tiny_encoder(dir, args.count("--heads"), false, 0);
    const NpyArray inputs = read_npy(dir + "/inputs.npy", "inputs.npy");
    const NpyArray targets = read_npy(dir + "/targets.npy", "targets.npy");
    const Vector losses = load_vector(dir, "losses", "(N)");
    REQUIRE(inputs.shape.size() == 3);
    const std::size_t N = inputs.shape[0], n = inputs.shape[1] * inputs.shape[2];
    REQUIRE(losses.size() == N);
    AdamW optimizer(AdamWOptions{args.number("--lr"), 0.9, 0.999, 1e-8, args.number("--weight-decay")});
    for (std::size_t s = 0; s < N; ++s) {
      Batch b;
      for (std::size_t i = 0; i < n; ++i) {
        b.inputs.push_back(static_cast<std::size_t>(inputs.integers[s * n + i]));
        b.targets.push_back(static_cast<std::size_t>(targets.integers[s * n + i]));
      }
      CAPTURE(s);
      CHECK_NEAR(train_step(model, optimizer, b), losses(s), 1e-9);
    }
    for (const NamedTensor& t : named_tensors(model)) {
      CAPTURE(t.name);
      const NpyArray want = read_npy(dir + "/expected/" + t.name + ".npy", t.name + ".npy");
      CHECK_CLOSE(flat_entries(t), want.values, 1e-8);
    }
  }

  TEST_CASE("training is deterministic: the same seed gives the same losses to the last bit") {
    const std::vector<double> first = train_losses(9, 4), second = train_losses(9, 4);
    REQUIRE(first.size() == 4);
    for (std::size_t i = 0; i < first.size(); ++i) CHECK(first[i] == second[i]);
    CHECK(train_losses(10, 4)[0] != first[0]);  // and another seed gives other numbers
    CHECK(first[3] < first[0]);                 // the loss falls
  }
}  // TEST_SUITE

TEST_SUITE("given: 14 training") {
  TEST_CASE("layer_norm_forward is chapter 11's layer_norm to the bit, and keeps each row's μ and rstd") {
    Rng rng(3);
    const Matrix x = 3.0 * rng.normal_matrix(4, 5) + 2.0;
    const Vector gamma = xt::view(rng.uniform_matrix(1, 5, 0.5, 1.5), 0);
    const Vector beta = xt::view(rng.uniform_matrix(1, 5, -0.5, 0.5), 0);
    LayerNormActivations saved;
    const Matrix y = layer_norm_forward(x, gamma, beta, saved);
    CHECK_CLOSE(y, layer_norm(x, gamma, beta, kLayerNormEps), 0.0);
    CHECK_CLOSE(saved.x, x, 0.0);
    CHECK_CLOSE(saved.mean, Vector(xt::mean(x, {1})), 1e-15);
    CHECK_CLOSE(saved.rstd, Vector(1.0 / xt::sqrt(xt::variance(x, {1}) + kLayerNormEps)), 1e-14);
    CHECK_THROWS_AS(layer_norm_forward(x, Vector({1, 1}), beta, saved), std::invalid_argument);
  }

  TEST_CASE("encoder_layer_forward on one sequence equals chapter 11's encoder_layer (post- and pre-norm)") {
    Rng rng(20);
    const EncoderLayerWeights w = random_encoder_layer(rng, 8, 12);
    const Matrix src = rng.normal_matrix(5, 8);
    const BoolMatrix mask = xt::zeros<bool>({5, 5});
    for (const bool norm_first : {false, true}) {
      CAPTURE(norm_first);
      CHECK_CLOSE(encoder_layer_forward(src, 5, w, 2, norm_first, Activation::relu, mask).output,
                  encoder_layer(src, w, 2, norm_first, mask), 1e-12);
    }
  }

  TEST_CASE("encoder_layer_forward refuses a seq_len that does not divide the rows") {
    Rng rng(21);
    const EncoderLayerWeights w = random_encoder_layer(rng, 4, 6);
    const Matrix src = rng.normal_matrix(6, 4);
    CHECK_THROWS_AS(encoder_layer_forward(src, 4, w, 2, false, Activation::relu, xt::zeros<bool>({4, 4})),
                    std::invalid_argument);
    CHECK_THROWS_AS(encoder_layer_forward(src, 0, w, 2, false, Activation::relu, xt::zeros<bool>({0, 0})),
                    std::invalid_argument);
  }

  TEST_CASE("relu and exact gelu, and their derivatives against central differences") {
    const Matrix x = {{-2.0, -0.5, 0.3, 1.7}};
    CHECK_CLOSE(activate(x, Activation::relu), Matrix({{0, 0, 0.3, 1.7}}), 0.0);
    // gelu(x) = x Φ(x): Φ(1.7) = 0.955434537241457 (the normal distribution's table)
    CHECK_NEAR(activate(Matrix({{1.7}}), Activation::gelu)(0, 0), 1.7 * 0.955434537241457, 1e-14);
    for (const Activation act : {Activation::relu, Activation::gelu}) {
      const Matrix ones = xt::ones<double>({1, 4});
      const Matrix numerical = numerical_gradient(
          [&](const Matrix& y) { return sum_of_products(activate(y, act), ones); }, x, 1e-6);
      CHECK_GRADIENT(activation_derivative(x, act), numerical, 1e-8);
    }
  }

  TEST_CASE("softmax_cross_entropy worked by hand, against central differences, and with huge logits") {
    // logits (0, ln 3): softmax (1/4, 3/4); target 1: loss −ln(3/4); gradient (1/4, −1/4) over T = 1
    const LossAndGradient r = softmax_cross_entropy(Matrix({{0.0, std::log(3.0)}}), {1});
    CHECK_NEAR(r.loss, -std::log(0.75), 1e-15);
    CHECK_CLOSE(r.grad, Matrix({{0.25, -0.25}}), 1e-15);
    Rng rng(22);
    const Matrix z = rng.normal_matrix(4, 5);
    const std::vector<std::size_t> y = {0, 4, 2, 2};
    const Matrix numerical =
        numerical_gradient([&](const Matrix& x) { return softmax_cross_entropy(x, y).loss; }, z, 1e-6);
    CHECK_GRADIENT(softmax_cross_entropy(z, y).grad, numerical, 1e-9);
    // logits of 1000: no overflow; the right class certain, so the loss is 0
    const LossAndGradient big = softmax_cross_entropy(Matrix({{1000.0, 0.0}}), {0});
    CHECK(big.loss == 0.0);
    // ... wherever the largest logit is: first, middle or last column
    const LossAndGradient middle =
        softmax_cross_entropy(Matrix({{0.0, 1000.0, 0.0}, {0.0, 0.0, 1000.0}}), {1, 2});
    CHECK(middle.loss == 0.0);
    CHECK_CLOSE(middle.grad, Matrix(xt::zeros<double>({2, 3})), 0.0);
    CHECK_THROWS_AS(softmax_cross_entropy(z, {0, 1, 2}), std::invalid_argument);
    CHECK_THROWS_AS(softmax_cross_entropy(z, {0, 1, 2, 5}), std::invalid_argument);
    // the loss alone is the same number to the bit, refuses the same targets
    CHECK(cross_entropy_loss(z, y) == softmax_cross_entropy(z, y).loss);
    CHECK(cross_entropy_loss(Matrix({{0.0, 1000.0, 0.0}, {0.0, 0.0, 1000.0}}), {1, 2}) == 0.0);
    CHECK_THROWS_AS(cross_entropy_loss(z, {0, 1, 2}), std::invalid_argument);
    CHECK_THROWS_AS(cross_entropy_loss(z, {0, 1, 2, 5}), std::invalid_argument);
  }

  TEST_CASE("mse_loss worked by hand and against central differences") {
    const LossAndGradient r = mse_loss(Matrix({{1, 2}}), Matrix({{0, 4}}));
    CHECK(r.loss == 2.5);  // (1 + 4) / 2
    CHECK_CLOSE(r.grad, Matrix({{1, -2}}), 0.0);
    Rng rng(23);
    const Matrix o = rng.normal_matrix(3, 4), t = rng.normal_matrix(3, 4);
    CHECK_GRADIENT(mse_loss(o, t).grad,
                   numerical_gradient([&](const Matrix& x) { return mse_loss(x, t).loss; }, o, 1e-6), 1e-9);
    CHECK_THROWS_AS(mse_loss(o, rng.normal_matrix(3, 3)), std::invalid_argument);
  }

  TEST_CASE("embedding_backward adds each row to its token's row; a token used twice gets both") {
    const Matrix d = embedding_backward({2, 0, 2}, Matrix({{1, 2}, {3, 4}, {10, 20}}), 4);
    CHECK_CLOSE(d, Matrix({{3, 4}, {0, 0}, {11, 22}, {0, 0}}), 0.0);
    CHECK_THROWS_AS(embedding_backward({4}, Matrix({{1, 2}}), 4), std::invalid_argument);
    CHECK_THROWS_AS(embedding_backward({0, 1}, Matrix({{1, 2}}), 4), std::invalid_argument);
  }

  TEST_CASE("argmax_rows (first maximum, first and last column) and accuracy per token and per sequence") {
    const std::vector<std::size_t> best = argmax_rows(Matrix({{5, 1, 5}, {0, 1, 2}, {3, 3, 1}}));
    CHECK(best == std::vector<std::size_t>({0, 2, 0}));
    const Accuracy a = accuracy({1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 0, 6}, 3);
    CHECK(a.tokens == 6);
    CHECK(a.tokens_right == 5);
    CHECK(a.sequences == 2);
    CHECK(a.sequences_right == 1);
    CHECK(a.per_sequence() == 0.5);
    CHECK_THROWS_AS(accuracy({1, 2}, {1, 2, 3}, 1), std::invalid_argument);
    CHECK_THROWS_AS(accuracy({1, 2, 3}, {1, 2, 3}, 2), std::invalid_argument);
  }
}  // TEST_SUITE

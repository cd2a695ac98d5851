// Chapter 04 — tests of causal_mask and masked_attention, run against the reference and against your
// exercise (./course check 04): masks worked by hand, the future kept out, padding, fully masked
// rows, and torch.nn.MultiheadAttention with one head (fixtures by chapters/04_masking/make_fixtures.py) to 1e-9.
#include "04_masking/given.hpp"
#include "pytorch.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <stdexcept>

using namespace course;

namespace {
void check_pytorch_case(const std::string& name) {
  const std::string dir = std::string(COURSE_CHAPTERS_DIR) + "/04_masking/fixtures/" + name;
  const AttentionLayerFiles f = load_attention_layer(dir);
  const AttentionResult r = one_head_layer(f);
  const Tensor3 expected_weights = load_tensor3(dir, "attn_output_weights", "(1, L, S)");
  CHECK_CLOSE(r.weights, Matrix(xt::view(expected_weights, 0, xt::all(), xt::all())), 1e-9);
  CHECK_CLOSE(r.output, load_matrix(dir, "attn_output", "(L, E)"), 1e-9);
}
}  // namespace

TEST_SUITE("04 masking") {
  TEST_CASE("causal_mask(3) worked by hand: true above the diagonal") {
    const BoolMatrix m = causal_mask(3);
    REQUIRE_SHAPE(m, {3, 3});
    const BoolMatrix expected = {{false, true, true}, {false, false, true}, {false, false, false}};
    CHECK_MESSAGE(m == expected, "expected:\n" << test::show(expected) << "got:\n" << test::show(m));
  }

  TEST_CASE("causal_mask(1) is one false entry: a single token sees itself") {
    const BoolMatrix m = causal_mask(1);
    REQUIRE_SHAPE(m, {1, 1});
    CHECK_FALSE(m(0, 0));
  }

  TEST_CASE("masked_attention worked by hand: a masked key gets weight 0 and the rest renormalise") {
    // Scores [0, 0, 0] (q = 0); mask the middle key: weights [1/2, 0, 1/2], output the mean of v0, v2.
    const Matrix q = {{0.0, 0.0}};
    const Matrix k = {{1, 2}, {3, 4}, {5, 6}};
    const Matrix v = {{2.0}, {100.0}, {4.0}};
    const AttentionResult r = masked_attention(q, k, v, BoolMatrix({{false, true, false}}));
    CHECK_CLOSE(r.weights, Matrix({{0.5, 0.0, 0.5}}), 1e-15);
    CHECK_CLOSE(r.output, Matrix({{3.0}}), 1e-15);
  }

  TEST_CASE("no mask gives chapter 02's attention") {
    Rng rng(1);
    const Matrix q = rng.normal_matrix(3, 4), k = rng.normal_matrix(5, 4), v = rng.normal_matrix(5, 2);
    const AttentionResult r = masked_attention(q, k, v, no_mask(3, 5));
    const AttentionResult expected = scaled_dot_product_attention(q, k, v);
    CHECK_CLOSE(r.weights, expected.weights, 1e-15);
    CHECK_CLOSE(r.output, expected.output, 1e-15);
  }

  TEST_CASE("with the causal mask, changing a future token changes nothing before it") {
    Rng rng(2);
    const Matrix x = rng.normal_matrix(6, 4);
    Matrix changed = x;
    xt::view(changed, 5, xt::all()) = xt::view(rng.normal_matrix(1, 4), 0, xt::all());  // the last token
    const AttentionResult a = masked_attention(x, x, x, causal_mask(6));
    const AttentionResult b = masked_attention(changed, changed, changed, causal_mask(6));
    const auto first5 = [](const Matrix& m) { return Matrix(xt::view(m, xt::range(0, 5), xt::all())); };
    CHECK_CLOSE(first5(b.output), first5(a.output), 0.0);
    CHECK_CLOSE(first5(b.weights), first5(a.weights), 0.0);
    // and the weights are lower triangular, each row summing to 1
    for (std::size_t i = 0; i < 6; ++i)
      for (std::size_t j = i + 1; j < 6; ++j) CHECK(a.weights(i, j) == 0.0);
    const Vector sums = xt::sum(a.weights, {1});
    CHECK_CLOSE(sums, Vector(xt::ones<double>({6})), 1e-14);
  }

  TEST_CASE("padding: masking padded keys gives the attention over the real keys alone") {
    Rng rng(3);
    const Matrix q = rng.normal_matrix(3, 4), k = rng.normal_matrix(5, 4), v = rng.normal_matrix(5, 2);
    const BoolVector pad = {false, false, false, true, true};  // the last two keys are padding
    const AttentionResult r = masked_attention(q, k, v, padding_mask(pad, 3));
    const AttentionResult real =
        scaled_dot_product_attention(Matrix(q), Matrix(xt::view(k, xt::range(0, 3), xt::all())),
                                     Matrix(xt::view(v, xt::range(0, 3), xt::all())));
    CHECK_CLOSE(r.output, real.output, 1e-15);
    CHECK_CLOSE(Matrix(xt::view(r.weights, xt::all(), xt::range(0, 3))), real.weights, 1e-15);
    CHECK_CLOSE(Matrix(xt::view(r.weights, xt::all(), xt::range(3, 5))), Matrix(xt::zeros<double>({3, 2})),
                0.0);
  }

  TEST_CASE("a fully masked row gets zero weights and a zero output, not NaN") {
    const Matrix q = {{1.0}, {2.0}};
    const Matrix k = {{1.0}, {-1.0}};
    const Matrix v = {{3.0, 4.0}, {5.0, 6.0}};
    const BoolMatrix mask = {{true, true}, {false, true}};  // query 0 may attend to nothing
    const AttentionResult r = masked_attention(q, k, v, mask);
    CHECK_CLOSE(r.weights, Matrix({{0.0, 0.0}, {1.0, 0.0}}), 0.0);
    CHECK_CLOSE(r.output, Matrix({{0.0, 0.0}, {3.0, 4.0}}), 0.0);
  }

  TEST_CASE("scores around plus and minus 1e4 with a mask give exact weights") {
    // q . k = [1e4, -1e4, 1e4 + 1]; the largest is masked, so softmax([1e4, -1e4]) = [1, 0].
    const AttentionResult r =
        masked_attention(Matrix({{1e4}}), Matrix({{1.0}, {-1.0}, {1.0001}}), Matrix({{1.0}, {2.0}, {3.0}}),
                         BoolMatrix({{false, false, true}}));
    CHECK_CLOSE(r.weights, Matrix({{1.0, 0.0, 0.0}}), 0.0);
    CHECK_CLOSE(r.output, Matrix({{1.0}}), 0.0);
  }

  TEST_CASE("a mask that is not (L, S), or q, k, v that do not fit, are refused") {
    const Matrix q = xt::zeros<double>({2, 3}), k = xt::zeros<double>({4, 3}), v = xt::zeros<double>({4, 1});
    CHECK_THROWS_AS(masked_attention(q, k, v, no_mask(4, 2)), std::invalid_argument);
    CHECK_THROWS_AS(masked_attention(q, k, v, no_mask(2, 3)), std::invalid_argument);
    CHECK_THROWS_AS(masked_attention(q, xt::zeros<double>({4, 2}), v, no_mask(2, 4)), std::invalid_argument);
  }

  TEST_CASE("matches PyTorch MultiheadAttention with one head: no mask, L 4 and S 6") {
    check_pytorch_case("no_mask");
  }
  TEST_CASE("matches PyTorch MultiheadAttention with one head: causal attn_mask") {
    check_pytorch_case("causal");
  }
  TEST_CASE("matches PyTorch MultiheadAttention with one head: key_padding_mask") {
    check_pytorch_case("key_padding");
  }
  TEST_CASE("matches PyTorch MultiheadAttention with one head: causal and padding together") {
    check_pytorch_case("causal_and_padding");
  }
  TEST_CASE("matches PyTorch MultiheadAttention with one head: L 3 and S 5 with an (L, S) mask and padding") {
    check_pytorch_case("causal_rectangular");
  }

  TEST_CASE(
      "one head layer with a fully masked row: zero weights and out_proj.bias where PyTorch gives NaN") {
    // The causal fixture with key 0 also padded: query 0 may see only key 0, so it sees nothing.
    // Its attention output is 0, so its row of attn_output is out_proj(0) = out_proj.bias. The other
    // rows are those of PyTorch (checked by hand: 2.2e-16); here they give no weight to key 0.
    AttentionLayerFiles f =
        load_attention_layer(std::string(COURSE_CHAPTERS_DIR) + "/04_masking/fixtures/causal");
    f.mask = combine_masks(causal_mask(5), padding_mask(BoolVector({true, false, false, false, false}), 5));
    const AttentionResult r = one_head_layer(f);
    REQUIRE_SHAPE(r.weights, {5, 5});
    CHECK_CLOSE(Vector(xt::view(r.weights, xt::all(), 0)), Vector(xt::zeros<double>({5})), 0.0);
    CHECK_CLOSE(Vector(xt::view(r.weights, 0, xt::all())), Vector(xt::zeros<double>({5})), 0.0);
    CHECK_CLOSE(Vector(xt::view(r.output, 0, xt::all())), f.out_proj_bias, 0.0);
    const Vector sums = xt::sum(Matrix(xt::view(r.weights, xt::range(1, 5), xt::all())), {1});
    CHECK_CLOSE(sums, Vector(xt::ones<double>({4})), 1e-14);
    CHECK_FALSE(xt::any(xt::isnan(r.output)));
  }
}

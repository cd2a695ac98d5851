// Chapter 05 — tests of split_heads, merge_heads and multi_head_attention, run against the reference
// and against your exercise (./course check 05): head layouts worked by hand, invariants, and
// torch.nn.MultiheadAttention (fixtures by chapters/05_multi_head_attention/make_fixtures.py) to 1e-9.
#include "05_multi_head_attention/given.hpp"
#include "pytorch.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <stdexcept>

using namespace course;

namespace {
const std::string fixtures = std::string(COURSE_CHAPTERS_DIR) + "/05_multi_head_attention/fixtures/";

MultiHeadWeights weights_of(const AttentionLayerFiles& f) {
  return {f.in_proj_weight, f.in_proj_bias, f.out_proj_weight, f.out_proj_bias};
}

// PyTorch's result for one fixture case (args.txt holds "--heads H").
void check_pytorch_case(const std::string& name) {
  const std::string dir = fixtures + name;
  const std::size_t heads = test::fixture_args(dir).count("--heads");
  REQUIRE(heads > 0);
  const AttentionLayerFiles f = load_attention_layer(dir);
  const MultiHeadResult r = multi_head_attention(f.query, f.key, f.value, weights_of(f), heads, f.mask);
  CHECK_CLOSE(r.weights, load_tensor3(dir, "attn_output_weights", "(H, L, S)"), 1e-9);
  CHECK_CLOSE(r.output, load_matrix(dir, "attn_output", "(L, E)"), 1e-9);
}
}  // namespace

TEST_SUITE("05 multi-head attention") {
  TEST_CASE("split_heads worked by hand: 2 heads of 3 columns each") {
    // x (2, 6): head 0 gets columns 0..2, head 1 columns 3..5 (chunks of size d_head = 6 / 2 = 3)
    const Matrix x = {{0, 1, 2, 3, 4, 5}, {10, 11, 12, 13, 14, 15}};
    const Tensor3 heads = split_heads(x, 2);
    REQUIRE_SHAPE(heads, {2, 2, 3});
    const Tensor3 expected = {{{0, 1, 2}, {10, 11, 12}}, {{3, 4, 5}, {13, 14, 15}}};
    CHECK_CLOSE(heads, expected, 0.0);
  }

  TEST_CASE("split_heads makes n_heads chunks of size d_model / n_heads, not chunks of size n_heads") {
    // d_model 8, 2 heads: 2 chunks of width 4. The bug (chunks of size 2) would give 4 chunks.
    const Matrix x = {{0, 1, 2, 3, 4, 5, 6, 7}};
    const Tensor3 heads = split_heads(x, 2);
    REQUIRE_SHAPE(heads, {2, 1, 4});
    CHECK_CLOSE(Matrix(xt::view(heads, 1, xt::all(), xt::all())), Matrix({{4, 5, 6, 7}}), 0.0);
  }

  TEST_CASE("merge_heads worked by hand and merge_heads(split_heads(x)) == x") {
    const Tensor3 heads = {{{1, 2}}, {{3, 4}}, {{5, 6}}};  // 3 heads, 1 token, d_head 2
    CHECK_CLOSE(merge_heads(heads), Matrix({{1, 2, 3, 4, 5, 6}}), 0.0);
    Rng rng(1);
    const Matrix x = rng.normal_matrix(5, 12);
    for (std::size_t h : {1, 2, 3, 4, 6, 12}) {
      CAPTURE(h);
      CHECK_CLOSE(merge_heads(split_heads(x, h)), x, 0.0);
    }
  }

  TEST_CASE("split_heads refuses 0 heads and heads that do not divide d_model") {
    const Matrix x = xt::zeros<double>({2, 8});
    CHECK_THROWS_AS(split_heads(x, 0), std::invalid_argument);
    CHECK_THROWS_AS(split_heads(x, 3), std::invalid_argument);
  }

  TEST_CASE("one head is chapter 04's one-head attention between the projections") {
    Rng rng(2);
    const std::size_t E = 4;
    const MultiHeadWeights w = random_multi_head_weights(rng, E);
    const Matrix query = rng.normal_matrix(3, E), key = rng.normal_matrix(5, E),
                 value = rng.normal_matrix(5, E);
    const MultiHeadResult r = multi_head_attention(query, key, value, w, 1, no_mask(3, 5));
    const auto rows = [&](std::size_t from) {
      return Matrix(xt::view(w.in_proj_weight, xt::range(from, from + E), xt::all()));
    };
    const auto bias = [&](std::size_t from) {
      return Vector(xt::view(w.in_proj_bias, xt::range(from, from + E)));
    };
    const AttentionResult one =
        masked_attention(linear(query, rows(0), bias(0)), linear(key, rows(E), bias(E)),
                         linear(value, rows(2 * E), bias(2 * E)), no_mask(3, 5));
    CHECK_CLOSE(r.output, linear(one.output, w.out_proj_weight, w.out_proj_bias), 1e-14);
    CHECK_CLOSE(Matrix(xt::view(r.weights, 0, xt::all(), xt::all())), one.weights, 1e-15);
  }

  TEST_CASE("each head sees only its own columns: changing head 1's query weights leaves head 0 alone") {
    Rng rng(3);
    const std::size_t E = 8;
    MultiHeadWeights w = random_multi_head_weights(rng, E);
    const Matrix x = rng.normal_matrix(4, E);
    const MultiHeadResult a = multi_head_attention(x, x, x, w, 2, no_mask(4, 4));
    // rows 4..7 of W_q produce Q's columns 4..7, which belong to head 1
    xt::view(w.in_proj_weight, xt::range(4, 8), xt::all()) += 0.5;
    const MultiHeadResult b = multi_head_attention(x, x, x, w, 2, no_mask(4, 4));
    CHECK_CLOSE(Matrix(xt::view(b.weights, 0, xt::all(), xt::all())),
                Matrix(xt::view(a.weights, 0, xt::all(), xt::all())), 0.0);
    CHECK(max_abs_diff(Matrix(xt::view(b.weights, 1, xt::all(), xt::all())),
                       Matrix(xt::view(a.weights, 1, xt::all(), xt::all()))) > 1e-6);
  }

  TEST_CASE("shapes, rows summing to 1 in every head, and the mask applied to every head") {
    Rng rng(4);
    const std::size_t E = 6;
    const MultiHeadWeights w = random_multi_head_weights(rng, E);
    const Matrix x = rng.normal_matrix(5, E);
    const MultiHeadResult r = multi_head_attention(x, x, x, w, 3, causal_mask(5));
    REQUIRE_SHAPE(r.output, {5, 6});
    REQUIRE_SHAPE(r.weights, {3, 5, 5});
    const Matrix sums = xt::sum(r.weights, {2});
    CHECK_CLOSE(sums, Matrix(xt::ones<double>({3, 5})), 1e-14);
    for (std::size_t h = 0; h < 3; ++h)
      for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = i + 1; j < 5; ++j) CHECK(r.weights(h, i, j) == 0.0);
  }

  TEST_CASE("multi_head_attention refuses heads that do not divide E and weights that do not fit") {
    Rng rng(5);
    const MultiHeadWeights w = random_multi_head_weights(rng, 8);
    const Matrix x = rng.normal_matrix(3, 8);
    CHECK_THROWS_AS(multi_head_attention(x, x, x, w, 3, no_mask(3, 3)), std::invalid_argument);
    const Matrix y = rng.normal_matrix(3, 6);
    CHECK_THROWS_AS(multi_head_attention(y, y, y, w, 2, no_mask(3, 3)), std::invalid_argument);
  }

  TEST_CASE("multi_head_attention refuses each weight with one row or column too many") {
    // E = 4, 2 heads. Every array of MultiHeadWeights is checked, on every axis: out_proj.weight of
    // (E + 1, E) would give an (L, E + 1) output and read out_proj.bias past its end.
    Rng rng(6);
    const std::size_t E = 4;
    const MultiHeadWeights good = random_multi_head_weights(rng, E);
    const Matrix x = rng.normal_matrix(3, E);
    REQUIRE_SHAPE(multi_head_attention(x, x, x, good, 2, no_mask(3, 3)).output, {3, E});
    const auto refuses = [&](const char* what, MultiHeadWeights w) {
      INFO(what);
      CHECK_THROWS_AS(multi_head_attention(x, x, x, w, 2, no_mask(3, 3)), std::invalid_argument);
    };
    MultiHeadWeights w = good;
    w.in_proj_weight = rng.normal_matrix(3 * E + 1, E);
    refuses("in_proj_weight (3E + 1, E)", w);
    w = good;
    w.in_proj_weight = rng.normal_matrix(3 * E, E + 1);
    refuses("in_proj_weight (3E, E + 1)", w);
    w = good;
    w.in_proj_bias = xt::zeros<double>({3 * E + 1});
    refuses("in_proj_bias (3E + 1)", w);
    w = good;
    w.out_proj_weight = rng.normal_matrix(E + 1, E);
    refuses("out_proj.weight (E + 1, E)", w);
    w = good;
    w.out_proj_weight = rng.normal_matrix(E, E + 1);
    refuses("out_proj.weight (E, E + 1)", w);
    w = good;
    w.out_proj_bias = xt::zeros<double>({E + 1});
    refuses("out_proj.bias (E + 1)", w);
  }

  TEST_CASE("matches PyTorch: self-attention, 2 heads") {
    check_pytorch_case("self_attention");
  }
  TEST_CASE("matches PyTorch: L 3 and S 7, 4 heads") {
    check_pytorch_case("l_differs_from_s");
  }
  TEST_CASE("matches PyTorch: causal attn_mask, 3 heads") {
    check_pytorch_case("causal");
  }
  TEST_CASE("matches PyTorch: key_padding_mask") {
    check_pytorch_case("key_padding");
  }
  TEST_CASE("matches PyTorch: one head") {
    check_pytorch_case("one_head");
  }
  TEST_CASE("matches PyTorch: 8 heads of width 2") {
    check_pytorch_case("eight_heads");
  }
  TEST_CASE("matches PyTorch: float32 weights and inputs") {
    check_pytorch_case("float32");
  }
}

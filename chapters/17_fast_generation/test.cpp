// Chapter 17 — tests of grouped_query_attention and decode_step, run against the reference and against
// your exercise (./course check 17): values worked by hand, chapter 04's masked_attention on K/V heads
// repeated H/G times, PyTorch's attention on repeated heads (fixtures by chapters/17_fast_generation/make_fixtures.py),
// and chapter 16's full forward (tiny_gpt_forward) or its band-masked form (recompute_logits), which
// the KV cache must reproduce to 1e-12 for every prefill length. Tests of given code that does not
// call your two functions (grouping and expanding heads, the band mask, the cache's bytes, the
// gradients of a grouped model) are in the "given:" suite.
#include "04_masking/contract.hpp"  // masked_attention, causal_mask
#include "17_fast_generation/given.hpp"
#include "gradcheck.hpp"
#include "npy.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <cmath>
#include <stdexcept>

using namespace course;

namespace {
const std::string fixtures = std::string(COURSE_CHAPTERS_DIR) + "/17_fast_generation/fixtures/";

// A small TinyGPT with H = 6 heads of d_k = 2 (so G = 1, 2, 3, 6 all divide H), norms away from 1 and 0,
// grouped to G K/V heads.
TinyGpt small_model(std::size_t G, std::size_t layers, std::size_t n_ctx, std::uint64_t seed) {
  Rng rng(seed);
  TinyGptConfig c;
  c.vocab = 9;
  c.n_ctx = n_ctx;
  c.d_model = 12;
  c.n_heads = 6;
  c.d_ff = 10;
  c.n_layers = layers;
  TinyGpt m = random_tiny_gpt(rng, c);
  for (EncoderLayerWeights& b : m.blocks) b = random_encoder_layer(rng, c.d_model, c.d_ff);
  m.norm_weight = xt::view(rng.uniform_matrix(1, c.d_model, 0.8, 1.2), 0);
  m.norm_bias = xt::view(rng.uniform_matrix(1, c.d_model, -0.1, 0.1), 0);
  m.tok *= 0.5;
  return group_kv_heads(m, G);
}

std::vector<std::size_t> random_ids(std::size_t n, std::size_t V, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::size_t> ids;
  for (std::size_t i = 0; i < n; ++i) ids.push_back(rng.below(V));
  return ids;
}

// Positions 0..S−1 for S keys, queries from first_query on.
AttentionPositions in_order(std::size_t S, std::size_t first_query, std::size_t window = 0) {
  AttentionPositions a;
  a.first_query = first_query;
  a.window = window;
  for (std::size_t j = 0; j < S; ++j) a.key_positions.push_back(j);
  return a;
}

// The columns [h d, (h + 1) d) of x.
Matrix head_of(const Matrix& x, std::size_t h, std::size_t d) {
  return xt::view(x, xt::all(), xt::range(h * d, (h + 1) * d));
}

// Grouped-query attention the long way: every query head h with chapter 04's masked_attention on a
// copy of K/V head h / (H/G), the mask built from the positions.
Matrix by_repeated_heads(const Matrix& q, const Matrix& k, const Matrix& v, std::size_t H, std::size_t G,
                         const AttentionPositions& a) {
  const std::size_t T = q.shape(0), S = k.shape(0), d = q.shape(1) / H;
  BoolMatrix mask = xt::zeros<bool>({T, S});
  for (std::size_t i = 0; i < T; ++i) {
    for (std::size_t j = 0; j < S; ++j) {
      const std::size_t p = a.first_query + i, s = a.key_positions[j];
      mask(i, j) = s > p || (a.window > 0 && s + a.window <= p);
    }
  }
  Matrix out = xt::zeros<double>({T, H * d});
  for (std::size_t h = 0; h < H; ++h) {
    const std::size_t g = h / (H / G);
    xt::view(out, xt::all(), xt::range(h * d, (h + 1) * d)) =
        masked_attention(head_of(q, h, d), head_of(k, g, d), head_of(v, g, d), mask).output;
  }
  return out;
}
}  // namespace

TEST_SUITE("17 fast generation") {
  TEST_CASE("grouped_query_attention worked by hand: six query heads share two K/V heads") {
    // H = 6 query heads, G = 2 K/V heads, d_k = 1: query heads 0, 1, 2 read K/V head 0 and query heads
    // 3, 4, 5 read K/V head 1 (g = h / (H/G) = h / 3; h % G or h / G would pick other heads).
    // K/V head 0: keys (0, 1), values (2, 6); K/V head 1: keys (0, 1), values (10, 30).
    // A query ln 3 scores the keys (0, ln 3): weights (1/4, 3/4), output 1/4·2 + 3/4·6 = 5 on K/V head 0,
    // 1/4·10 + 3/4·30 = 25 on K/V head 1. A query 0 scores them equally: (2 + 6)/2 = 4, (10 + 30)/2 = 20.
    const double ln3 = std::log(3.0);
    const Matrix q = {{ln3, 0.0, ln3, 0.0, ln3, 0.0}};
    const Matrix k = {{0.0, 0.0}, {1.0, 1.0}};
    const Matrix v = {{2.0, 10.0}, {6.0, 30.0}};
    const AttentionPositions query_at_1 = in_order(2, 1);  // the query at position 1, keys at 0 and 1
    CHECK_CLOSE(grouped_query_attention(q, k, v, 6, 2, query_at_1),
                Matrix({{5.0, 4.0, 5.0, 20.0, 25.0, 20.0}}), 1e-14);
    // at position 0 the query sees only the key at 0: the values 2 (K/V head 0) and 10 (K/V head 1)
    const AttentionPositions query_at_0 = in_order(2, 0);
    CHECK_CLOSE(grouped_query_attention(q, k, v, 6, 2, query_at_0),
                Matrix({{2.0, 2.0, 2.0, 10.0, 10.0, 10.0}}), 1e-15);
    // a window of 1 at position 1 sees only the key at 1: 6 and 30
    const AttentionPositions query_at_1_window_1 = in_order(2, 1, 1);
    CHECK_CLOSE(grouped_query_attention(q, k, v, 6, 2, query_at_1_window_1),
                Matrix({{6.0, 6.0, 6.0, 30.0, 30.0, 30.0}}), 1e-15);
  }

  TEST_CASE("grouped_query_attention equals chapter 04's attention on K/V heads repeated H/G times") {
    Rng rng(7);
    const std::size_t H = 6, d = 3, T = 4, S = 7;  // T != S, more than two heads, d_k odd
    const Matrix q = rng.uniform_matrix(T, H * d, -1.5, 1.5);
    for (std::size_t G : {1u, 2u, 3u, 6u}) {
      CAPTURE(G);
      const Matrix k = rng.uniform_matrix(S, G * d, -1.5, 1.5), v = rng.uniform_matrix(S, G * d, -1.0, 1.0);
      // the queries at positions 3..6 over keys 0..6 (the last rows of a causal square), with and
      // without a window of 3
      for (std::size_t W : {0u, 3u}) {
        CAPTURE(W);
        const AttentionPositions a = in_order(S, 3, W);
        const Matrix out = grouped_query_attention(q, k, v, H, G, a);
        REQUIRE_SHAPE(out, {T, H * d});
        CHECK_CLOSE(out, by_repeated_heads(q, k, v, H, G, a), 1e-14);
      }
    }
  }

  TEST_CASE("grouped_query_attention: keys out of order (a ring buffer), a row that sees no key") {
    Rng rng(8);
    const std::size_t H = 4, G = 2, d = 2, S = 4;
    const Matrix q = rng.uniform_matrix(2, H * d, -1.0, 1.0);
    const Matrix k = rng.uniform_matrix(S, G * d, -1.0, 1.0), v = rng.uniform_matrix(S, G * d, -1.0, 1.0);
    // slots of a ring of 4 after position 6: slot s holds 4, 5, 6, 3
    AttentionPositions ring;
    ring.first_query = 5;
    ring.window = 4;
    ring.key_positions = {4, 5, 6, 3};
    CHECK_CLOSE(grouped_query_attention(q, k, v, H, G, ring), by_repeated_heads(q, k, v, H, G, ring), 1e-14);
    // every key in the future of position 0 ... except none: shift the keys to positions 1..4
    AttentionPositions future;
    future.first_query = 0;
    future.key_positions = {1, 2, 3, 4};
    const Matrix out = grouped_query_attention(q, k, v, H, G, future);
    CHECK_CLOSE(xt::view(out, 0, xt::all()), Vector(xt::zeros<double>({H * d})), 0.0);  // sees nothing
    CHECK_CLOSE(Matrix(xt::view(out, xt::range(1, 2), xt::all())),
                Matrix(xt::view(by_repeated_heads(q, k, v, H, G, future), xt::range(1, 2), xt::all())),
                1e-14);
  }

  TEST_CASE("grouped_query_attention refuses a G that does not divide H, and shapes that do not fit") {
    Rng rng(9);
    const Matrix q = rng.uniform_matrix(2, 8, -1.0, 1.0), k = rng.uniform_matrix(3, 4, -1.0, 1.0);
    CHECK_NOTHROW(grouped_query_attention(q, k, k, 4, 2, in_order(3, 1)));
    CHECK_THROWS_AS(grouped_query_attention(q, k, k, 4, 3, in_order(3, 1)), std::invalid_argument);  // 3 ∤ 4
    CHECK_THROWS_AS(grouped_query_attention(q, k, k, 4, 0, in_order(3, 1)), std::invalid_argument);
    CHECK_THROWS_AS(grouped_query_attention(q, k, k, 3, 1, in_order(3, 1)), std::invalid_argument);  // 3 ∤ 8
    CHECK_THROWS_AS(grouped_query_attention(q, k, k, 4, 1, in_order(3, 1)),
                    std::invalid_argument);  // 4 != 1·2
    const Matrix v_short = rng.uniform_matrix(2, 4, -1.0, 1.0);
    CHECK_THROWS_AS(grouped_query_attention(q, k, v_short, 4, 2, in_order(3, 1)), std::invalid_argument);
    CHECK_THROWS_AS(grouped_query_attention(q, k, k, 4, 2, in_order(2, 1)), std::invalid_argument);
  }

  TEST_CASE("grouped_query_attention equals PyTorch's attention on repeat_interleave'd K/V heads") {
    for (const char* name : {"mqa", "gqa", "mha", "gqa_window"}) {
      CAPTURE(name);
      const std::string dir = fixtures + "gqa/" + name;
      const Matrix q = load_matrix(dir, "q", "(T, H d)"), k = load_matrix(dir, "k", "(S, G d)"),
                   v = load_matrix(dir, "v", "(S, G d)");
      const Matrix sizes = load_matrix(dir, "sizes", "(1, 4)");  // H, G, first query, window
      AttentionPositions a =
          in_order(k.shape(0), static_cast<std::size_t>(sizes(0, 2)), static_cast<std::size_t>(sizes(0, 3)));
      const Matrix out = grouped_query_attention(q, k, v, static_cast<std::size_t>(sizes(0, 0)),
                                                 static_cast<std::size_t>(sizes(0, 1)), a);
      CHECK_CLOSE(out, load_matrix(dir, "output", "(T, H d)"), 1e-12);
    }
  }

  TEST_CASE("KV cache: prefill P, then decode_step, gives chapter 16's logits for every P from 0 to T") {
    const TinyGpt m = small_model(6, 2, 8, 11);  // G = H: chapter 16's model
    const std::vector<std::size_t> ids = random_ids(8, 9, 12);
    for (std::size_t T : {1u, 5u, 8u}) {  // 8 = the whole context
      const std::vector<std::size_t> first(ids.begin(), ids.begin() + T);
      const Matrix full = tiny_gpt_forward(m, first, T).logits;
      for (std::size_t P = 0; P <= T; ++P) {
        CAPTURE(T);
        CAPTURE(P);
        CHECK_CLOSE(cached_logits(m, first, P), full, 1e-12);
      }
    }
  }

  TEST_CASE("decode_step: position counts up; exactly n_ctx tokens fit, the next one throws") {
    const TinyGpt m = small_model(3, 1, 5, 13);
    const std::vector<std::size_t> ids = random_ids(5, 9, 14);
    const Matrix full = recompute_logits(m, ids);
    KvCache cache = make_kv_cache(m);
    for (std::size_t t = 0; t < 5; ++t) {
      const Vector logits = decode_step(m, cache, ids[t]);
      CHECK(cache.length == t + 1);
      CHECK_CLOSE(logits, Vector(xt::view(full, t, xt::all())), 1e-12);  // the last row too
    }
    // the cache holds n_ctx = 5 tokens: a sixth has no row of pos.weight
    CHECK_THROWS_AS(decode_step(m, cache, ids[0]), std::out_of_range);
    CHECK(cache.length == 5);
    // decode_step checks the model's n_ctx itself, before reading pos.weight: give the table a poisoned
    // row n_ctx (NaN) and the cache room for one more; a check of `p > n_ctx` would read the row
    TinyGpt poisoned = m;
    poisoned.pos = xt::concatenate(xt::xtuple(m.pos, Matrix(xt::zeros<double>({1, 12}) * NAN)), 0);
    TinyGpt longer = poisoned;  // the same model with a context of 6, for a cache of 6 slots
    longer.config.n_ctx = 6;
    KvCache roomy = make_kv_cache(longer);
    for (std::size_t t = 0; t < 5; ++t) decode_step(poisoned, roomy, ids[t]);
    CHECK_THROWS_AS(decode_step(poisoned, roomy, ids[0]), std::out_of_range);
    // and a token not below V
    KvCache fresh = make_kv_cache(m);
    CHECK_THROWS_AS(decode_step(m, fresh, 9), std::invalid_argument);
  }

  TEST_CASE("decode_step after a prefill continues at the prefill's position") {
    // a decoder that restarts at position 0 after the prefill (forgets the offset) gives other logits
    const TinyGpt m = small_model(2, 2, 7, 15);
    const std::vector<std::size_t> ids = random_ids(7, 9, 16);
    const Matrix full = recompute_logits(m, ids);
    KvCache cache = make_kv_cache(m);
    const std::vector<std::size_t> prompt(ids.begin(), ids.begin() + 4);
    const Matrix first = prefill(m, cache, prompt);
    CHECK_CLOSE(first, Matrix(xt::view(full, xt::range(0, 4), xt::all())), 1e-12);
    const Vector next = decode_step(m, cache, ids[4]);
    CHECK(cache.length == 5);
    CHECK_CLOSE(next, Vector(xt::view(full, 4, xt::all())), 1e-12);
  }

  TEST_CASE("grouped K/V heads: the cached decoder equals the full forward for G = 1, 2, 3") {
    const std::vector<std::size_t> ids = random_ids(6, 9, 17);
    for (std::size_t G : {1u, 2u, 3u}) {
      CAPTURE(G);
      const TinyGpt m = small_model(G, 2, 6, 18);
      const Matrix full = recompute_logits(m, ids);
      for (std::size_t P : {0u, 3u, 6u}) CHECK_CLOSE(cached_logits(m, ids, P), full, 1e-12);
    }
  }

  TEST_CASE("sliding window: the ring buffer equals a band-masked full forward, before and after wrapping") {
    const std::vector<std::size_t> ids = random_ids(9, 9, 19);
    for (std::size_t G : {6u, 2u}) {
      const TinyGpt m = small_model(G, 2, 9, 20);
      for (std::size_t W : {1u, 3u, 4u, 9u}) {
        const Matrix band = recompute_logits(m, ids, W);
        for (std::size_t P : {0u, 2u, 5u, 9u}) {  // prefill shorter and longer than the window
          CAPTURE(G);
          CAPTURE(W);
          CAPTURE(P);
          CHECK_CLOSE(cached_logits(m, ids, P, W), band, 1e-12);
        }
      }
      // the window changes the answer once positions fall out of it (so the test can tell)
      CHECK(max_abs_diff(cached_logits(m, ids, 2, 3), recompute_logits(m, ids)) > 1e-3);
    }
  }

  TEST_CASE("generation with the cache samples what chapter 16's generate samples") {
    const TinyGpt m = small_model(6, 1, 10, 21);
    SamplingOptions o;
    o.temperature = 0.9;
    o.top_k = 5;
    Rng a(3), b(3);
    const std::vector<std::size_t> prompt = {1, 4, 2};
    const std::vector<std::size_t> cached = generate_cached(m, prompt, 8, o, a);
    CHECK(cached == generate(m, prompt, 8, o, b));
    CHECK(cached.size() == 11);
    CHECK_THROWS_AS(generate_cached(m, prompt, 9, o, a), std::invalid_argument);  // 3 + 9 > 10 + 1
  }
}  // TEST_SUITE

TEST_SUITE("given: 17 fast generation") {
  TEST_CASE("band_mask worked by hand, and W = 0 is chapter 04's causal mask") {
    // n = 4, W = 2: row i sees i − 1 and i
    const BoolMatrix m = band_mask(4, 2);
    const BoolMatrix expected = {{false, true, true, true},
                                 {false, false, true, true},
                                 {true, false, false, true},
                                 {true, true, false, false}};
    CHECK(m == expected);
    CHECK(band_mask(5, 0) == causal_mask(5));
    CHECK(band_mask(5, 5) == causal_mask(5));
  }

  TEST_CASE("grouping K/V heads: G = H is the model; expanding repeats each head H/G times") {
    const TinyGpt mha = small_model(6, 1, 6, 22);
    CHECK(n_kv_heads_of(mha) == 6);
    const TinyGpt g2 = group_kv_heads(mha, 2);
    CHECK(n_kv_heads_of(g2) == 2);
    REQUIRE_SHAPE(g2.blocks[0].self_attn.in_proj_weight, {12 + 2 * 2 * 2, 12});
    const TinyGpt back = expand_kv_heads(g2);
    const Matrix& w = back.blocks[0].self_attn.in_proj_weight;
    REQUIRE_SHAPE(w, {36, 12});
    const std::size_t d = 2, E = 12;
    // query heads 0, 1, 2 read K head 0 = MHA's K head 0; heads 3, 4, 5 read MHA's K head 3; same for V
    for (std::size_t h = 0; h < 6; ++h) {
      const std::size_t source = (h / 3) * 3;
      CHECK_CLOSE(Matrix(xt::view(w, xt::range(E + h * d, E + (h + 1) * d), xt::all())),
                  Matrix(xt::view(mha.blocks[0].self_attn.in_proj_weight,
                                  xt::range(E + source * d, E + (source + 1) * d), xt::all())),
                  0.0);
      CHECK_CLOSE(Matrix(xt::view(w, xt::range(2 * E + h * d, 2 * E + (h + 1) * d), xt::all())),
                  Matrix(xt::view(mha.blocks[0].self_attn.in_proj_weight,
                                  xt::range(2 * E + source * d, 2 * E + (source + 1) * d), xt::all())),
                  0.0);
    }
    CHECK_CLOSE(Matrix(xt::view(w, xt::range(0, E), xt::all())),
                Matrix(xt::view(mha.blocks[0].self_attn.in_proj_weight, xt::range(0, E), xt::all())), 0.0);
    CHECK_THROWS_AS(group_kv_heads(mha, 4), std::invalid_argument);  // 4 does not divide 6
    CHECK_THROWS_AS(group_kv_heads(g2, 1), std::invalid_argument);   // already grouped
  }

  TEST_CASE("the KV cache shrinks by H/G, and a window keeps W slots") {
    const std::size_t E = 12, layers = 2, n_ctx = 8;
    for (std::size_t G : {6u, 3u, 2u, 1u}) {
      const KvCache cache = make_kv_cache(small_model(G, layers, n_ctx, 23));
      CAPTURE(G);
      CHECK(cache.bytes() == 2.0 * layers * n_ctx * G * (E / 6) * 8.0);
      CHECK(cache.bytes() * (6 / G) == make_kv_cache(small_model(6, layers, n_ctx, 23)).bytes());
    }
    const KvCache ring = make_kv_cache(small_model(6, layers, n_ctx, 23), 3);
    CHECK(ring.slots == 3);
    CHECK(ring.bytes() == 2.0 * layers * 3 * E * 8.0);
    // the ring's slots hold the latest positions: after position 7 with 3 slots, 6 7 5
    CHECK(ring.positions_for(7).key_positions == std::vector<std::size_t>({6, 7, 5}));
    CHECK(ring.positions_for(1).key_positions == std::vector<std::size_t>({0, 1}));
    // a model without its position table has no position for the cache to count
    TinyGpt no_positions = small_model(6, layers, n_ctx, 23);
    no_positions.config.positions = false;
    no_positions.pos = Matrix::from_shape({0, E});
    CHECK_THROWS_AS(make_kv_cache(no_positions), std::invalid_argument);
    CHECK_THROWS_AS(recompute_logits(no_positions, {1, 2}), std::invalid_argument);
  }

  TEST_CASE("KvCache::store refuses a position past n_ctx, out of order, or a row of the wrong width") {
    const TinyGpt m = small_model(2, 1, 2, 24);
    KvCache cache = make_kv_cache(m);
    const Matrix row = xt::zeros<double>({1, 4});
    CHECK_THROWS_AS(cache.store(0, 1, row, row), std::invalid_argument);  // position 0 comes first
    cache.store(0, 0, row, row);
    CHECK_THROWS_AS(cache.store(0, 1, row, Matrix(xt::zeros<double>({1, 5}))), std::invalid_argument);
    cache.store(0, 1, row, row);
    CHECK_THROWS_AS(cache.store(0, 2, row, row), std::out_of_range);
    CHECK_THROWS_AS(cache.store(1, 0, row, row), std::invalid_argument);
  }

  TEST_CASE("a grouped model's gradients (folded from its expansion) against central differences") {
    const TinyGpt base = small_model(2, 2, 5, 25);
    const std::vector<std::size_t> ids = random_ids(10, 9, 26), targets = random_ids(10, 9, 27);
    TinyGpt m = base;
    const TinyGptLossAndGradients a = grouped_loss_and_gradients(m, ids, targets, 5);
    TinyGpt grads = a.grads;
    const auto loss = [&] {
      return softmax_cross_entropy(tiny_gpt_forward(expand_kv_heads(m), ids, 5).logits, targets).loss;
    };
    test::check_named_gradients(named_tensors(m), named_tensors(grads), loss, 1e-7);
  }
}  // TEST_SUITE

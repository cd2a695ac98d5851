// Chapter 16 — tests of cross_entropy_backward and sample_next, run against the reference and against
// your exercise (./course check 16): values worked by hand, central differences (common/gradcheck.hpp),
// chapter 14's softmax_cross_entropy, counts of many draws, and PyTorch's TinyGPT (fixtures by
// chapters/16_tiny_gpt/make_fixtures.py) to 1e-9. The model's gradients and generation are given code built on your
// two functions, so their tests fail until both work. Tests of given code that does not call them (the
// poems, the split, the vocabulary, the n-gram baselines, the learning rate, the forward pass) are in
// the "given:" suite.
#include "16_tiny_gpt/given.hpp"
#include "gradcheck.hpp"
#include "npy.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <cmath>
#include <stdexcept>

using namespace course;

namespace {
const std::string fixtures = std::string(COURSE_CHAPTERS_DIR) + "/16_tiny_gpt/fixtures/";

std::vector<std::size_t> ids_of(const std::string& dir, const std::string& name) {
  const Int64Vector v = load_int64_vector(dir, name, "(T,)");
  return std::vector<std::size_t>(v.begin(), v.end());
}

// The same uniform draw sample_next will make: a copy of the generator.
double next_uniform(const Rng& rng) {
  Rng copy = rng;
  return copy.uniform();
}

// How often each token comes out of n draws.
std::vector<double> frequencies(const Vector& logits, const SamplingOptions& o, std::size_t n,
                                std::uint64_t seed) {
  Rng rng(seed);
  std::vector<double> f(logits.size(), 0.0);
  for (std::size_t i = 0; i < n; ++i) f[sample_next(logits, o, rng)] += 1.0 / static_cast<double>(n);
  return f;
}

// A small TinyGPT with its norms away from 1 and 0.
TinyGpt small_model(std::size_t layers, std::uint64_t seed) {
  Rng rng(seed);
  const TinyGptConfig c{7, 6, 6, 3, 8, layers};  // vocab, n_ctx, d_model, n_heads, d_ff, n_layers
  TinyGpt m = random_tiny_gpt(rng, c);
  for (EncoderLayerWeights& b : m.blocks) {
    b = random_encoder_layer(rng, c.d_model, c.d_ff);
  }
  m.norm_weight = xt::view(rng.uniform_matrix(1, c.d_model, 0.8, 1.2), 0);
  m.norm_bias = xt::view(rng.uniform_matrix(1, c.d_model, -0.1, 0.1), 0);
  m.tok *= 0.5;
  return m;
}

// Every gradient of the model's loss against central differences, parameter by parameter.
void tiny_gpt_gradcheck(std::size_t layers, const std::vector<std::size_t>& ids,
                        const std::vector<std::size_t>& targets, std::size_t T) {
  TinyGpt m = small_model(layers, 3 + layers);
  TinyGptLossAndGradients a = tiny_gpt_loss_and_gradients(m, ids, targets, T);
  const auto loss = [&] { return softmax_cross_entropy(tiny_gpt_forward(m, ids, T).logits, targets).loss; };
  test::check_named_gradients(named_tensors(m), named_tensors(a.grads), loss, 1e-7);
}
}  // namespace

TEST_SUITE("16 tiny GPT") {
  TEST_CASE("cross_entropy_backward worked by hand: two rows, (softmax − one_hot) / 2") {
    // row 0: z = (0, 0), y = 0: softmax (1/2, 1/2), minus (1, 0), over T = 2 -> (−1/4, 1/4)
    // row 1: z = (ln 3, 0), y = 1: softmax (3/4, 1/4), minus (0, 1), over 2 -> (3/8, −3/8)
    const Matrix z = {{0.0, 0.0}, {std::log(3.0), 0.0}};
    CHECK_CLOSE(cross_entropy_backward(z, {0, 1}), Matrix({{-0.25, 0.25}, {0.375, -0.375}}), 1e-15);
  }

  TEST_CASE("cross_entropy_backward equals chapter 14's gradient and central differences of the loss") {
    Rng rng(5);
    Matrix z = rng.uniform_matrix(5, 7, -3.0, 3.0);
    z(0, 0) = 9.0;  // the largest logit in the first column of one row, the last of another
    z(4, 6) = 9.0;
    const std::vector<std::size_t> y = {0, 6, 3, 1, 2};
    const Matrix g = cross_entropy_backward(z, y);
    REQUIRE_SHAPE(g, {5, 7});
    CHECK_CLOSE(g, softmax_cross_entropy(z, y).grad, 1e-15);
    const auto loss = [&](const Matrix& x) { return softmax_cross_entropy(x, y).loss; };
    CHECK_GRADIENT(g, numerical_gradient(loss, z, 1e-6), 1e-8);
    // each row sums to 0: the softmax sums to 1, the one-hot too
    for (std::size_t t = 0; t < 5; ++t) CHECK_NEAR(xt::sum(xt::view(g, t, xt::all()))(), 0.0, 1e-16);
  }

  TEST_CASE("cross_entropy_backward: one column, and logits of ±1000 without overflow") {
    // V = 1: softmax is 1, the target is 0, so the gradient is 0
    CHECK_CLOSE(cross_entropy_backward(Matrix({{5.0}, {-2.0}}), {0, 0}), Matrix({{0.0}, {0.0}}), 0.0);
    // exp(1000) overflows; after subtracting the maximum the softmax is (1, 0, 0)
    const Matrix g = cross_entropy_backward(Matrix({{-1000.0, 1000.0, 0.0}}), {0});
    CHECK_CLOSE(g, Matrix({{-1.0, 1.0, 0.0}}), 1e-15);
    // every logit far below 0: exp(z) underflows to 0 unless the row's own maximum is subtracted
    const double p0 = 1.0 / (1.0 + std::exp(-1.0));  // softmax(−1000, −1001)[0]
    CHECK_CLOSE(cross_entropy_backward(Matrix({{-1000.0, -1001.0}}), {1}), Matrix({{p0, -p0}}),
                1e-15);  // (p0, p1 − 1) = (p0, −p0)
  }

  TEST_CASE("cross_entropy_backward refuses a targets list of the wrong length or a target not below V") {
    const Matrix z = xt::zeros<double>({3, 4});
    CHECK_THROWS_AS(cross_entropy_backward(z, {0, 1}), std::invalid_argument);
    CHECK_THROWS_AS(cross_entropy_backward(z, {0, 1, 4}), std::invalid_argument);
  }

  TEST_CASE("sample_next greedy: the first largest logit, at either end, and no draw") {
    Rng rng(1);
    SamplingOptions greedy;
    greedy.greedy = true;
    CHECK(sample_next(Vector({0.1, 3.0, -2.0, 3.0}), greedy, rng) == 1);  // tie: the first
    CHECK(sample_next(Vector({5.0, 3.0, -2.0}), greedy, rng) == 0);
    CHECK(sample_next(Vector({-5.0, -3.0, -2.0}), greedy, rng) == 2);  // all negative
    Rng fresh(1);
    CHECK(rng.uniform() == fresh.uniform());  // greedy drew nothing
  }

  TEST_CASE("sample_next draws once and walks the cumulative probabilities in id order") {
    // p = (0.1, 0.2, 0.3, 0.4) from logits ln p; u picks the first id whose cumulative sum exceeds it
    const Vector z = xt::log(Vector({0.1, 0.2, 0.3, 0.4}));
    const double cumulative[4] = {0.1, 0.3, 0.6, 1.0};
    Rng rng(11);
    for (int i = 0; i < 200; ++i) {
      const double u = next_uniform(rng);
      std::size_t expected = 0;
      while (expected < 3 && !(u < cumulative[expected])) ++expected;
      // stay away from the boundaries, where rounding may go either way
      const bool near = std::abs(u - 0.1) < 1e-12 || std::abs(u - 0.3) < 1e-12 || std::abs(u - 0.6) < 1e-12;
      const std::size_t got = sample_next(z, SamplingOptions{}, rng);
      if (!near) CHECK(got == expected);
    }
    // exactly one draw per call: after 200 calls the generator is where 200 draws put it
    Rng other(11);
    for (int i = 0; i < 200; ++i) other.uniform();
    CHECK(rng.uniform() == other.uniform());
  }

  TEST_CASE("sample_next: the frequencies of 20000 draws are the softmax, at temperature 1 and 2") {
    const Vector z = {1.0, 0.0, 2.0, -1.0, 0.5};
    for (double temperature : {1.0, 2.0}) {
      SamplingOptions o;
      o.temperature = temperature;
      const std::vector<double> f = frequencies(z, o, 20000, 7);
      const Vector e = xt::exp(z / temperature);
      const double sum = xt::sum(e)();
      for (std::size_t v = 0; v < 5; ++v) {
        const double p = e(v) / sum, sd = std::sqrt(p * (1 - p) / 20000.0);
        CAPTURE(temperature);
        CAPTURE(v);
        CHECK_NEAR(f[v], p, 5 * sd);
      }
    }
    // a low temperature is nearly greedy
    SamplingOptions cold;
    cold.temperature = 0.05;
    CHECK(frequencies(z, cold, 1000, 8)[2] > 0.999);
  }

  TEST_CASE("sample_next top-k keeps the k LARGEST logits (a sign slip keeping the smallest is caught)") {
    // the largest logits are at ids 4 and 0; the smallest at 2 and 5
    const Vector z = {2.0, 0.0, -3.0, 1.0, 2.5, -2.0};
    SamplingOptions o;
    o.top_k = 2;
    const std::vector<double> f = frequencies(z, o, 20000, 9);
    // only ids 4 and 0, in the ratio e^2.5 : e^2
    for (std::size_t v : {1, 2, 3, 5}) CHECK(f[v] == 0.0);
    const double p4 = 1.0 / (1.0 + std::exp(-0.5)), sd = std::sqrt(p4 * (1 - p4) / 20000.0);
    CHECK_NEAR(f[4], p4, 5 * sd);
    // k = 1 is greedy; k >= V keeps everything, the same draws as no top-k
    o.top_k = 1;
    CHECK(frequencies(z, o, 500, 9)[4] > 1.0 - 1e-9);
    o.top_k = 6;
    SamplingOptions all;
    CHECK(frequencies(z, o, 3000, 10) == frequencies(z, all, 3000, 10));
    o.top_k = 1000;
    CHECK(frequencies(z, o, 3000, 10) == frequencies(z, all, 3000, 10));
  }

  TEST_CASE("sample_next top-k: on a tie at the k-th logit the smaller id is kept") {
    const Vector z = {1.0, 3.0, 1.0, 1.0};
    SamplingOptions o;
    o.top_k = 2;
    const std::vector<double> f = frequencies(z, o, 5000, 12);
    CHECK(f[2] == 0.0);
    CHECK(f[3] == 0.0);
    CHECK(f[0] > 0.0);
    CHECK(f[1] > f[0]);
  }

  TEST_CASE("sample_next refuses no logits, a temperature <= 0 or not finite, and top_k = 0") {
    Rng rng(1);
    SamplingOptions o;
    CHECK_THROWS_AS(sample_next(Vector(Vector::from_shape({0})), o, rng), std::invalid_argument);
    for (double t : {0.0, -1.0, std::nan(""), static_cast<double>(INFINITY)}) {
      o.temperature = t;
      CHECK_THROWS_AS(sample_next(Vector({1.0, 2.0}), o, rng), std::invalid_argument);
    }
    o.temperature = 1.0;
    o.top_k = 0;
    CHECK_THROWS_AS(sample_next(Vector({1.0, 2.0}), o, rng), std::invalid_argument);
  }

  TEST_CASE("the TinyGPT's gradients agree with central differences (one and two blocks, two sequences)") {
    // two sequences of 5 (T < n_ctx = 6: pos.weight's last row gets no gradient)
    const std::vector<std::size_t> ids = {6, 1, 2, 1, 0, 3, 3, 5, 4, 2};
    const std::vector<std::size_t> targets = {1, 2, 1, 0, 6, 3, 5, 4, 2, 0};
    tiny_gpt_gradcheck(1, ids, targets, 5);
    tiny_gpt_gradcheck(2, ids, targets, 5);
  }

  TEST_CASE("the TinyGPT's loss and every gradient equal PyTorch's (1e-9, float64)") {
    for (const char* name : {"one_layer", "two_layers", "four_heads_short"}) {
      CAPTURE(name);
      const std::string dir = fixtures + name;
      const TinyGpt m = load_tiny_gpt(dir, test::fixture_args(dir).count("--heads"));
      const std::vector<std::size_t> ids = ids_of(dir, "idx"), targets = ids_of(dir, "targets");
      TinyGptLossAndGradients r = tiny_gpt_loss_and_gradients(m, ids, targets, ids.size());
      CHECK_NEAR(r.loss, load_scalar(dir, "loss"), 1e-9);
      std::size_t compared = 0;
      for (const NamedTensor& g : named_tensors(r.grads)) {
        CAPTURE(g.name);
        const NpyArray want = read_npy(dir + "/" + g.name + ".grad.npy", g.name + ".grad.npy");
        REQUIRE(want.shape == g.shape);
        CHECK_CLOSE(flat_entries(g), want.values, 1e-9);
        ++compared;
      }
      CHECK(compared == 5 + 12 * m.blocks.size());
    }
  }

  TEST_CASE("a tied model's gradient is the sum of the embedding's and the head's (central differences)") {
    TinyGpt m = small_model(1, 11);
    tie_weights(m);
    CHECK_CLOSE(m.head_weight, m.tok, 0.0);
    const std::vector<std::size_t> ids = {1, 2, 3, 4, 5, 6}, targets = {2, 3, 4, 5, 6, 0};
    const TinyGptLossAndGradients r = tiny_gpt_loss_and_gradients(m, ids, targets, 6);
    const Matrix tied = r.grads.tok + r.grads.head_weight;
    // move one shared entry at a time (in both uses) and difference the loss
    for (std::size_t v : {0u, 3u, 6u}) {
      for (std::size_t j : {0u, 5u}) {
        auto loss_at = [&](double d) {
          TinyGpt p = m;
          p.tok(v, j) += d;
          p.head_weight(v, j) += d;
          return cross_entropy_loss(tiny_gpt_forward(p, ids, 6).logits, targets);
        };
        const double numerical = (loss_at(1e-6) - loss_at(-1e-6)) / 2e-6;
        CAPTURE(v);
        CAPTURE(j);
        CHECK_NEAR(tied(v, j), numerical, 1e-7 * std::max(1.0, std::abs(numerical)));
      }
    }
    // a training step keeps the two tables one
    TrainingOptions o;
    o.tie = true;
    o.clip = 0.5;
    o.decay_all = false;
    Trainer trainer(o);
    Batch b;
    b.inputs = ids;
    b.targets = targets;
    trainer.step(m, b, 6);
    CHECK_CLOSE(m.head_weight, m.tok, 0.0);
  }

  TEST_CASE("training the TinyGPT is deterministic and the loss falls; generation from a seed repeats") {
    auto run = [](std::uint64_t seed) {
      TinyGpt m = small_model(1, seed);
      AdamW optimizer(AdamWOptions{1e-2, 0.9, 0.999, 1e-8, 0.01});
      Batch b;
      b.inputs = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5};
      b.targets = {1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6};
      std::vector<double> losses;
      for (int s = 0; s < 30; ++s) losses.push_back(train_step(m, optimizer, b, 6));
      return std::make_pair(losses, m);
    };
    const auto first = run(1), second = run(1);
    CHECK(first.first == second.first);
    CHECK(first.first.back() < 0.5 * first.first.front());
    // the trained model continues 0 1 2 ... greedily
    Rng rng(3);
    SamplingOptions greedy;
    greedy.greedy = true;
    CHECK(generate(first.second, {0}, 5, greedy, rng) == std::vector<std::size_t>({0, 1, 2, 3, 4, 5}));
    Rng a(4), b(4);
    CHECK(generate(first.second, {0, 1}, 8, SamplingOptions{}, a) ==
          generate(second.second, {0, 1}, 8, SamplingOptions{}, b));
  }
}  // TEST_SUITE

TEST_SUITE("given: 16 tiny GPT") {
  TEST_CASE("parse_tang300 reads titles, authors and lines, removing colour codes") {
    const std::string text =
        "\x1b[32m《静夜思》\x1b[m\n\x1b[33m作者：李白\x1b[m\n床前明月光，疑是地上霜。\n"
        "举头望明月，低头思故乡。\n%\n\x1b[32m《春晓》\x1b[m\n\x1b[33m作者：孟浩然\x1b[m\n\n"
        "春眠不觉晓，处处闻啼鸟。\n%\n";
    const std::vector<Poem> poems = parse_tang300(text);
    REQUIRE(poems.size() == 2);
    CHECK(poems[0].title == "《静夜思》");
    CHECK(poems[0].author == "李白");
    REQUIRE(poems[0].lines.size() == 2);
    CHECK(poems[0].lines[1] == U"举头望明月，低头思故乡。");
    CHECK(poems[1].author == "孟浩然");
    CHECK(encode_utf8(poem_text(poems[1])) == "春眠不觉晓，处处闻啼鸟。\n\n");
    CHECK_THROWS_AS(parse_tang300("\x1b[32m《无》\x1b[m\n床前明月光。\n%\n"), std::invalid_argument);
    CHECK_THROWS_AS(parse_tang300("《无》\n作者：某\n\xff\xfe\n%\n"), std::invalid_argument);
  }

  TEST_CASE("UTF-8 round trip, and malformed bytes refused") {
    const std::string s = "a，月\n𝄞";
    const std::u32string u = decode_utf8(s);
    CHECK(u == U"a，月\n𝄞");
    CHECK(encode_utf8(u) == s);
    CHECK_THROWS_AS(decode_utf8("\xe6\x9c"), std::invalid_argument);
    CHECK_THROWS_AS(decode_utf8("\x80"), std::invalid_argument);
  }

  TEST_CASE("the vocabulary is sorted by code point with '\\n' first; encode and decode invert") {
    Poem p;
    p.lines = {U"月光，月。"};
    const Vocabulary v = make_vocabulary({p});
    REQUIRE(v.size() == 5);
    CHECK(v.chars[0] == U'\n');
    for (std::size_t i = 1; i < v.size(); ++i) CHECK(v.chars[i - 1] < v.chars[i]);
    const std::vector<std::size_t> ids = v.encode(U"光月\n");
    CHECK(v.decode(ids) == "光月\n");
    CHECK_THROWS_AS(v.encode(U"日"), std::invalid_argument);
    CHECK_THROWS_AS(v.decode({5}), std::invalid_argument);
  }

  TEST_CASE("split_poems holds out every tenth poem, whole") {
    std::vector<Poem> poems(20);
    for (std::size_t i = 0; i < 20; ++i)
      poems[i].lines = {std::u32string(1, static_cast<char32_t>(U'a' + i))};
    const Corpus c = split_poems(poems);
    CHECK(c.train_poems == 18);
    CHECK(c.held_out_poems == 2);
    CHECK(c.held_out == U"j\n\nt\n\n");
    CHECK(c.train.find(U'j') == std::u32string::npos);
  }

  TEST_CASE("split_tang300: whole poems, disjoint parts, the same split every time, sizes 8 : 1 : 1") {
    std::vector<Poem> poems(30);
    for (std::size_t i = 0; i < 30; ++i)
      poems[i].lines = {std::u32string(1, static_cast<char32_t>(U'a' + i)) + U"，",
                        std::u32string(1, static_cast<char32_t>(U'A' + i))};
    const PoemSplit s = split_tang300(poems);
    CHECK(s.train_poems == 24);
    CHECK(s.validation_poems == 3);
    CHECK(s.test_poems == 3);
    // poems 4, 14, 24 validate; 9, 19, 29 test; each whole, in file order
    CHECK(s.validation == U"e，\nE\n\no，\nO\n\ny，\nY\n\n");
    CHECK(s.test == U"j，\nJ\n\nt，\nT\n\n~，\n^\n\n");
    // disjoint: every poem's characters are in exactly one part
    for (std::size_t i = 0; i < 30; ++i) {
      const char32_t ch = static_cast<char32_t>(U'a' + i);
      const int in = (s.train.find(ch) != std::u32string::npos) +
                     (s.validation.find(ch) != std::u32string::npos) +
                     (s.test.find(ch) != std::u32string::npos);
      CAPTURE(i);
      CHECK(in == 1);
    }
    CHECK(s.train.size() + s.validation.size() + s.test.size() == 30 * 6);
    // deterministic, and the test poems are the ones chapter 17 holds out
    const PoemSplit again = split_tang300(poems);
    CHECK((again.train == s.train && again.validation == s.validation && again.test == s.test));
    for (std::size_t i = 0; i < 30; ++i) CHECK(is_held_out(i) == (poem_part(i) == PoemPart::test));
  }

  TEST_CASE("windows start where a line starts; evaluation windows predict every id once, whole lines") {
    // "ab\ncd\n\nefg\n" with '\n' = 0: line starts at 0 (a), 3 (c), 7 (e); the empty line is not one
    const std::vector<std::size_t> text = {1, 2, 0, 3, 4, 0, 0, 5, 6, 7, 0};
    CHECK(line_starts(text, 0) == std::vector<std::size_t>{0, 3, 7});
    CHECK(line_starts({0, 1, 0}, 0) == std::vector<std::size_t>{1});
    // windows of up to 5 + 1 ids: 0 … 3 (the last line start within 5 of 0), 3 … 7, then 7 … 10 (the end)
    const std::vector<Window> w = evaluation_windows(text, 0, 5);
    REQUIRE(w.size() == 3);
    CHECK((w[0].start == 0 && w[0].length == 4));
    CHECK((w[1].start == 3 && w[1].length == 5));
    CHECK((w[2].start == 7 && w[2].length == 4));
    // a line longer than the window is cut: 0 … 2, 2 … 4, … every id after the first predicted once
    const std::vector<Window> cut = evaluation_windows({1, 2, 3, 4, 5, 6, 7, 0}, 0, 2);
    std::vector<std::size_t> predicted;
    for (const Window& x : cut) {
      CHECK(x.length <= 3);
      for (std::size_t t = 1; t < x.length; ++t) predicted.push_back(x.start + t);
    }
    CHECK(predicted == std::vector<std::size_t>{1, 2, 3, 4, 5, 6, 7});
    // training windows: only line starts with seq_len + 1 ids after them, every one of them drawn
    Rng rng(5);
    std::vector<int> seen(text.size(), 0);
    for (int k = 0; k < 200; ++k) {
      const Window x = training_window(rng, line_starts(text, 0), text.size(), 4);
      CHECK(x.length == 5);
      ++seen[x.start];
    }
    CHECK(seen[0] > 0);
    CHECK(seen[3] > 0);
    CHECK(seen[0] + seen[3] == 200);  // 7 + 5 > 11: the line at 7 is too close to the end
    CHECK_THROWS_AS(training_window(rng, {7}, text.size(), 4), std::invalid_argument);
  }

  TEST_CASE("the n-gram baselines worked by hand: unigram, add-α bigram, interpolated bigram") {
    // text 0 1 0 1 1, V = 3: count(0) = 2, count(1) = 3, count(2) = 0, N = 5; pairs (0,1) x2, (1,0),
    // (1,1); count_before(0) = 2, count_before(1) = 2, count_before(2) = 0
    const CharCounts c = count_chars({0, 1, 0, 1, 1}, 3);
    CHECK(c.total == 5.0);
    CHECK(c.counts == std::vector<double>{2, 3, 0});
    CHECK(c.count_before == std::vector<double>{2, 2, 0});
    const NgramModel unigram{NgramKind::unigram, 1.0, 0.0};
    CHECK(unigram.probability(c, 0, 1) == doctest::Approx(4.0 / 8.0).epsilon(1e-15));  // (3 + 1) / (5 + 3)
    CHECK(unigram.probability(c, 0, 2) == doctest::Approx(1.0 / 8.0).epsilon(1e-15));
    const NgramModel add_one{NgramKind::add_alpha_bigram, 1.0, 0.0};
    CHECK(add_one.probability(c, 0, 1) == doctest::Approx(3.0 / 5.0).epsilon(1e-15));  // (2 + 1) / (2 + 3)
    CHECK(add_one.probability(c, 2, 0) == doctest::Approx(1.0 / 3.0).epsilon(1e-15));  // never seen: uniform
    // λ = 1/2: P(1 | 0) = 1/2 · 2/2 + 1/2 · 4/8 = 3/4; P(2 | 1) = 1/2 · 0/2 + 1/2 · 1/8 = 1/16
    const NgramModel mixed{NgramKind::interpolated_bigram, 1.0, 0.5};
    CHECK(mixed.probability(c, 0, 1) == doctest::Approx(0.75).epsilon(1e-15));
    CHECK(mixed.probability(c, 1, 2) == doctest::Approx(1.0 / 16.0).epsilon(1e-15));
    CHECK(mixed.probability(c, 2, 1) == doctest::Approx(0.5).epsilon(1e-15));  // a never seen: the unigram
    const std::vector<double> bits = ngram_bits(c, mixed, {0, 1, 2}, {1, 2});
    REQUIRE(bits.size() == 2);
    CHECK(bits[0] == doctest::Approx(-std::log2(0.75)).epsilon(1e-15));
    CHECK(bits[1] == doctest::Approx(4.0).epsilon(1e-15));
    CHECK(mean_of(bits) == doctest::Approx((4.0 - std::log2(0.75)) / 2.0).epsilon(1e-15));
    CHECK_THROWS_AS(ngram_bits(c, NgramModel{NgramKind::unigram, 0.0, 0.0}, {0, 1}, {1}),
                    std::invalid_argument);
    CHECK_THROWS_AS(ngram_bits(c, NgramModel{NgramKind::interpolated_bigram, 1.0, 1.0}, {0, 1}, {1}),
                    std::invalid_argument);
    CHECK_THROWS_AS(ngram_bits(c, mixed, {0, 1}, {0}), std::invalid_argument);
    CHECK_THROWS_AS(count_chars({0, 3}, 3), std::invalid_argument);
  }

  TEST_CASE("every n-gram baseline's probabilities sum to 1 over the vocabulary, after every character") {
    Rng rng(7);
    std::vector<std::size_t> text;
    for (int i = 0; i < 300; ++i) text.push_back(rng.below(40));  // ids 40 … 49 never occur
    const CharCounts c = count_chars(text, 50);
    for (const NgramModel& m :
         {NgramModel{NgramKind::unigram, 0.01, 0.0}, NgramModel{NgramKind::add_alpha_bigram, 0.3, 0.0},
          NgramModel{NgramKind::interpolated_bigram, 0.1, 0.7}}) {
      for (std::size_t a = 0; a < 50; ++a) {
        double sum = 0.0;
        for (std::size_t b = 0; b < 50; ++b) sum += m.probability(c, a, b);
        CAPTURE(a);
        CHECK_NEAR(sum, 1.0, 1e-12);
      }
    }
  }

  TEST_CASE("the characters never seen in training, and the share of the loss spent on them") {
    const CharCounts c = count_chars({0, 1, 0, 1, 1}, 3);
    // ids 0 2 1 2, positions 1, 2, 3: 2 (unseen), 1, 2 (unseen)
    const std::vector<bool> unseen = unseen_in_training(c, {0, 2, 1, 2}, {1, 2, 3});
    CHECK(unseen == std::vector<bool>{true, false, true});
    // (4 + 2) / 3 of the mean (4 + 1 + 2) / 3 is spent on them
    CHECK(share_on({4.0, 1.0, 2.0}, unseen) == doctest::Approx(2.0).epsilon(1e-15));
    CHECK_THROWS_AS(share_on({1.0}, unseen), std::invalid_argument);
    CHECK_THROWS_AS(unseen_in_training(c, {0, 1}, {2}), std::invalid_argument);
  }

  TEST_CASE("the learning rate: linear warm-up, then a cosine from lr to lr / 10") {
    TrainingOptions o;
    o.lr = 2.0;
    o.warmup = 4;
    o.steps = 14;
    CHECK(learning_rate(o, 0) == 0.5);  // (0 + 1) / 4 of 2
    CHECK(learning_rate(o, 3) == 2.0);
    CHECK(learning_rate(o, 9) == 2.0);  // no cosine: constant after the warm-up
    o.cosine = true;
    CHECK(learning_rate(o, 4) == doctest::Approx(2.0).epsilon(1e-15));         // p = 0
    CHECK(learning_rate(o, 9) == doctest::Approx(2.0 * 0.55).epsilon(1e-15));  // p = 1/2
    const double p = 0.9, pi = std::acos(-1.0);
    CHECK(learning_rate(o, 13) ==
          doctest::Approx(2.0 * (0.1 + 0.45 * (1.0 + std::cos(pi * p)))).epsilon(1e-15));
  }

  TEST_CASE("the TinyGPT's logits equal PyTorch's (1e-9, float64), with and without targets") {
    for (const char* name : {"one_layer", "two_layers", "four_heads_short", "logits_only"}) {
      CAPTURE(name);
      const std::string dir = fixtures + name;
      const TinyGpt m = load_tiny_gpt(dir, test::fixture_args(dir).count("--heads"));
      const std::vector<std::size_t> ids = ids_of(dir, "idx");
      const Matrix want = load_matrix(dir, "logits", "(T, V)");
      CHECK_CLOSE(tiny_gpt_forward(m, ids, ids.size()).logits, want, 1e-9);
    }
  }

  TEST_CASE("the TinyGPT is causal: changing a token changes no earlier logits; sequences are apart") {
    const TinyGpt m = small_model(2, 1);
    const std::vector<std::size_t> a = {1, 2, 3, 4, 5}, b = {1, 2, 3, 0, 5};
    const Matrix la = tiny_gpt_forward(m, a, 5).logits, lb = tiny_gpt_forward(m, b, 5).logits;
    CHECK_CLOSE(Matrix(xt::view(la, xt::range(0, 3), xt::all())),
                Matrix(xt::view(lb, xt::range(0, 3), xt::all())), 0.0);
    CHECK(max_abs_diff(Vector(xt::view(la, 3, xt::all())), Vector(xt::view(lb, 3, xt::all()))) > 1e-3);
    // a batch of the two equals each alone
    std::vector<std::size_t> both = a;
    both.insert(both.end(), b.begin(), b.end());
    const Matrix l2 = tiny_gpt_forward(m, both, 5).logits;
    CHECK_CLOSE(Matrix(xt::view(l2, xt::range(5, 10), xt::all())), lb, 1e-12);
    // a shorter sequence: its logits are the first rows of the longer one's
    CHECK_CLOSE(tiny_gpt_forward(m, {1, 2, 3}, 3).logits, Matrix(xt::view(la, xt::range(0, 3), xt::all())),
                1e-12);
  }

  TEST_CASE("tiny_gpt_forward refuses sequences longer than the context, ragged batches and unknown ids") {
    const TinyGpt m = small_model(1, 1);
    CHECK_THROWS_AS(tiny_gpt_forward(m, {0, 1, 2, 3, 4, 5, 6}, 7), std::invalid_argument);
    CHECK_THROWS_AS(tiny_gpt_forward(m, {0, 1, 2}, 2), std::invalid_argument);
    CHECK_THROWS_AS(tiny_gpt_forward(m, {0, 7}, 2), std::invalid_argument);
    CHECK_THROWS_AS(tiny_gpt_forward(m, {}, 1), std::invalid_argument);
  }
}  // TEST_SUITE

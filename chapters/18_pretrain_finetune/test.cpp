// Chapter 18 — tests of lora_forward, lora_backward and merge_lora, run against the reference and
// against your exercise (./course check 18): values worked by hand, the forward against the merged
// weight, B = 0 against the base layer, both gradients against central differences (common/gradcheck.hpp)
// of a loss on the effective weight and of a loss through the layer, and every shape that does not fit.
// Tests of given code that does not call them (the corpus: cleaning, kinds, leakage) are in the
// "given: 18 ..." suite.
#include "18_pretrain_finetune/given.hpp"
#include "npy.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <xtensor/xadapt.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <stdexcept>
#include <string>

using namespace course;

namespace {

// x Wᵀ by plain loops: the base layer, computed here and nowhere else
Matrix base_layer(const Matrix& x, const Matrix& W) {
  Matrix y = xt::zeros<double>({x.shape(0), W.shape(0)});
  for (std::size_t t = 0; t < x.shape(0); ++t)
    for (std::size_t o = 0; o < W.shape(0); ++o)
      for (std::size_t i = 0; i < x.shape(1); ++i) y(t, o) += x(t, i) * W(o, i);
  return y;
}

// L(A, B) = Σ C ⊙ (W + s B A), by plain loops (s = α / r)
double loss_on_effective_weight(const Matrix& C, const Matrix& W, const Matrix& A, const Matrix& B,
                                double alpha) {
  const double s = alpha / static_cast<double>(A.shape(0));
  double L = 0.0;
  for (std::size_t o = 0; o < W.shape(0); ++o)
    for (std::size_t i = 0; i < W.shape(1); ++i) {
      double ba = 0.0;
      for (std::size_t k = 0; k < A.shape(0); ++k) ba += B(o, k) * A(k, i);
      L += C(o, i) * (W(o, i) + s * ba);
    }
  return L;
}

// Σ C ⊙ M
double weighted_sum(const Matrix& C, const Matrix& M) {
  return xt::sum(C * M)();
}

// The message of the std::invalid_argument that f throws ("" if it throws none).
std::string invalid_argument_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// A random adapted layer: W (out, in), A (r, in), B (out, r), all nonzero.
struct Layer {
  Matrix W, A, B;
};
Layer random_layer(Rng& rng, std::size_t out, std::size_t in, std::size_t r) {
  return {rng.uniform_matrix(out, in, -1.0, 1.0), rng.uniform_matrix(r, in, -1.0, 1.0),
          rng.uniform_matrix(out, r, -1.0, 1.0)};
}

}  // namespace

TEST_SUITE("18 LoRA") {
  // W (3, 2) = [[1, 2], [3, 4], [5, 6]], A (1, 2) = [[1, −1]], B (3, 1) = [[2], [1], [0]], α = 2, r = 1:
  // s = 2,  B A = [[2, −2], [1, −1], [0, 0]],  W_eff = W + 2 B A = [[5, −2], [5, 2], [5, 6]].
  const Matrix W_hand{{1, 2}, {3, 4}, {5, 6}};
  const Matrix A_hand{{1, -1}};
  const Matrix B_hand{{2}, {1}, {0}};

  TEST_CASE("lora_forward: a (2, 2) input through a (3, 2) layer of rank 1, worked by hand") {
    // x = [[1, 1], [2, 0]]
    // x Wᵀ = [[1+2, 3+4, 5+6], [2, 6, 10]] = [[3, 7, 11], [2, 6, 10]]
    // x Aᵀ = [[1−1], [2−0]] = [[0], [2]];  s (x Aᵀ) Bᵀ = [[0, 0, 0], [2·2·2, 2·2·1, 2·2·0]] = [[0, 0, 0], [8, 4, 0]]
    // y = [[3, 7, 11], [10, 10, 10]]   (= x W_effᵀ: [[5−2, 5+2, 5+6], [10, 10, 10]])
    const Matrix x{{1, 1}, {2, 0}};
    CHECK_CLOSE(lora_forward(x, W_hand, A_hand, B_hand, 2.0), Matrix({{3, 7, 11}, {10, 10, 10}}), 1e-14);
  }

  TEST_CASE("lora_backward: the adapters' gradients of a (3, 2) layer of rank 1, worked by hand") {
    // G = [[1, 0], [0, 1], [1, 1]], s = 2
    // Bᵀ G = [2·1 + 1·0 + 0·1, 2·0 + 1·1 + 0·1] = [[2, 1]]          -> dA = s Bᵀ G = [[4, 2]]
    // G Aᵀ = [[1·1 + 0·(−1)], [0·1 + 1·(−1)], [1·1 + 1·(−1)]] = [[1], [−1], [0]] -> dB = [[2], [−2], [0]]
    const Matrix G{{1, 0}, {0, 1}, {1, 1}};
    const LoraGradients g = lora_backward(G, A_hand, B_hand, 2.0);
    CHECK_CLOSE(g.dA, Matrix({{4, 2}}), 1e-14);
    CHECK_CLOSE(g.dB, Matrix({{2}, {-2}, {0}}), 1e-14);
  }

  TEST_CASE("merge_lora: worked by hand, with r = 1 and with r = 2 (s = α / r)") {
    CHECK_CLOSE(merge_lora(W_hand, A_hand, B_hand, 2.0), Matrix({{5, -2}, {5, 2}, {5, 6}}), 1e-14);
    // W = [[1, 1]], A = I (2, 2), B = [[3, 5]], α = 1, r = 2: s = 1/2, B A = [[3, 5]],
    // W_eff = [[1 + 1.5, 1 + 2.5]] = [[2.5, 3.5]]
    CHECK_CLOSE(merge_lora(Matrix({{1, 1}}), Matrix({{1, 0}, {0, 1}}), Matrix({{3, 5}}), 1.0),
                Matrix({{2.5, 3.5}}), 1e-15);
  }

  TEST_CASE("lora_forward equals x · merge_loraᵀ on random shapes") {
    Rng rng(18);
    // (T, in, out, r): square, wider, taller, r = in, r above in, one token
    for (const auto& [T, in, out, r] : std::vector<std::array<std::size_t, 4>>{
             {4, 5, 5, 2}, {3, 4, 7, 1}, {6, 8, 3, 3}, {2, 3, 5, 3}, {2, 2, 3, 4}, {1, 6, 4, 2}}) {
      CAPTURE(T);
      CAPTURE(in);
      CAPTURE(out);
      CAPTURE(r);
      const Layer l = random_layer(rng, out, in, r);
      const Matrix x = rng.uniform_matrix(T, in, -1.0, 1.0);
      const double alpha = 0.5 + static_cast<double>(r);
      const Matrix y = lora_forward(x, l.W, l.A, l.B, alpha);
      REQUIRE_SHAPE(y, {T, out});
      CHECK_CLOSE(y, base_layer(x, merge_lora(l.W, l.A, l.B, alpha)), 1e-12);
      // and the merged weight is W + (α / r) B A, entry by entry
      const Matrix merged = merge_lora(l.W, l.A, l.B, alpha);
      for (std::size_t o = 0; o < out; ++o)
        for (std::size_t i = 0; i < in; ++i) {
          double ba = 0.0;
          for (std::size_t k = 0; k < r; ++k) ba += l.B(o, k) * l.A(k, i);
          CHECK(std::abs(merged(o, i) - (l.W(o, i) + alpha / static_cast<double>(r) * ba)) < 1e-12);
        }
    }
  }

  TEST_CASE("B = 0 (LoRA's start) gives the base layer, and only B moves first") {
    Rng rng(7);
    Layer l = random_layer(rng, 4, 6, 2);
    l.B = xt::zeros<double>({4, 2});
    const Matrix x = rng.uniform_matrix(5, 6, -1.0, 1.0);
    CHECK_CLOSE(merge_lora(l.W, l.A, l.B, 4.0), l.W, 0.0);  // W + 0: exactly W
    CHECK_CLOSE(lora_forward(x, l.W, l.A, l.B, 4.0), base_layer(x, l.W), 1e-13);
    const LoraGradients g = lora_backward(rng.uniform_matrix(4, 6, -1.0, 1.0), l.A, l.B, 4.0);
    CHECK_CLOSE(g.dA, Matrix(xt::zeros<double>({2, 6})), 0.0);  // Bᵀ G with B = 0
    CHECK(xt::amax(xt::abs(g.dB))() > 0.1);                     // s G Aᵀ: not 0
  }

  TEST_CASE("lora_backward against central differences of L(A, B) = Σ C ⊙ (W + s B A): G = C") {
    Rng rng(25);
    for (const auto& [out, in, r] :
         std::vector<std::array<std::size_t, 3>>{{3, 4, 2}, {5, 3, 1}, {4, 4, 3}}) {
      CAPTURE(out);
      CAPTURE(in);
      CAPTURE(r);
      Layer l = random_layer(rng, out, in, r);
      const Matrix C = rng.uniform_matrix(out, in, -1.0, 1.0);
      const double alpha = 3.0;
      const LoraGradients g = lora_backward(C, l.A, l.B, alpha);
      test::check_gradients([&] { return loss_on_effective_weight(C, l.W, l.A, l.B, alpha); }, 1e-8,
                            {{"A", g.dA, l.A}, {"B", g.dB, l.B}});
    }
  }

  TEST_CASE("lora_backward against central differences of a loss through lora_forward: G = dyᵀ x") {
    // L = Σ C ⊙ y,  y = lora_forward(x, W, A, B, α):  dL/dy = C, and the weight's gradient is
    // G = dL/dW_eff = Cᵀ x (out, in) — what a linear layer's backward gives its weight (chapter 13)
    Rng rng(31);
    const std::size_t T = 5, in = 4, out = 6, r = 2;
    Layer l = random_layer(rng, out, in, r);
    const Matrix x = rng.uniform_matrix(T, in, -1.0, 1.0);
    const Matrix C = rng.uniform_matrix(T, out, -1.0, 1.0);
    const double alpha = 1.5;
    Matrix G = xt::zeros<double>({out, in});
    for (std::size_t o = 0; o < out; ++o)
      for (std::size_t i = 0; i < in; ++i)
        for (std::size_t t = 0; t < T; ++t) G(o, i) += C(t, o) * x(t, i);
    const LoraGradients g = lora_backward(G, l.A, l.B, alpha);
    test::check_gradients([&] { return weighted_sum(C, lora_forward(x, l.W, l.A, l.B, alpha)); }, 1e-8,
                          {{"A", g.dA, l.A}, {"B", g.dB, l.B}});
  }

  TEST_CASE("every shape that does not fit, r = 0 and α <= 0 are refused, naming both shapes") {
    Rng rng(3);
    const Layer l = random_layer(rng, 3, 4, 2);  // W (3, 4), A (2, 4), B (3, 2)
    const Matrix x = rng.uniform_matrix(2, 4, -1.0, 1.0);
    const Matrix G = rng.uniform_matrix(3, 4, -1.0, 1.0);
    const Matrix A_wide = rng.uniform_matrix(2, 5, -1.0, 1.0);
    const Matrix B_tall = rng.uniform_matrix(4, 2, -1.0, 1.0);
    const Matrix B_rank3 = rng.uniform_matrix(3, 3, -1.0, 1.0);
    const Matrix A_r0 = Matrix::from_shape({0, 4});
    const Matrix B_r0 = Matrix::from_shape({3, 0});
    // each function with each bad argument: the message names the two shapes that disagree
    struct Case {
      const char* what;
      std::function<void()> call;
      std::vector<std::string> names;
    };
    const std::vector<Case> cases{
        {"forward: x (2, 5)",
         [&] { lora_forward(rng.uniform_matrix(2, 5, 0, 1), l.W, l.A, l.B, 1); },
         {"(2, 5)", "(3, 4)"}},
        {"forward: A (2, 5)", [&] { lora_forward(x, l.W, A_wide, l.B, 1); }, {"(2, 5)", "(3, 4)"}},
        {"forward: B (4, 2)", [&] { lora_forward(x, l.W, l.A, B_tall, 1); }, {"(4, 2)", "(3, 4)"}},
        {"forward: B (3, 3)", [&] { lora_forward(x, l.W, l.A, B_rank3, 1); }, {"(3, 3)", "(2, 4)"}},
        {"forward: r = 0", [&] { lora_forward(x, l.W, A_r0, B_r0, 1); }, {"(0, 4)"}},
        {"forward: α = 0", [&] { lora_forward(x, l.W, l.A, l.B, 0); }, {"alpha"}},
        {"forward: α < 0", [&] { lora_forward(x, l.W, l.A, l.B, -2); }, {"alpha"}},
        {"forward: α NaN", [&] { lora_forward(x, l.W, l.A, l.B, std::nan("")); }, {"alpha"}},
        {"backward: A (2, 5)", [&] { lora_backward(G, A_wide, l.B, 1); }, {"(2, 5)", "(3, 4)"}},
        {"backward: B (4, 2)", [&] { lora_backward(G, l.A, B_tall, 1); }, {"(4, 2)", "(3, 4)"}},
        {"backward: B (3, 3)", [&] { lora_backward(G, l.A, B_rank3, 1); }, {"(3, 3)", "(2, 4)"}},
        {"backward: r = 0", [&] { lora_backward(G, A_r0, B_r0, 1); }, {"(0, 4)"}},
        {"backward: α = 0", [&] { lora_backward(G, l.A, l.B, 0); }, {"alpha"}},
        {"merge: A (2, 5)", [&] { merge_lora(l.W, A_wide, l.B, 1); }, {"(2, 5)", "(3, 4)"}},
        {"merge: B (4, 2)", [&] { merge_lora(l.W, l.A, B_tall, 1); }, {"(4, 2)", "(3, 4)"}},
        {"merge: B (3, 3)", [&] { merge_lora(l.W, l.A, B_rank3, 1); }, {"(3, 3)", "(2, 4)"}},
        {"merge: r = 0", [&] { merge_lora(l.W, A_r0, B_r0, 1); }, {"(0, 4)"}},
        {"merge: α < 0", [&] { merge_lora(l.W, l.A, l.B, -1); }, {"alpha"}},
    };
    for (const Case& c : cases) {
      CAPTURE(c.what);
      const std::string message = invalid_argument_of(c.call);
      CAPTURE(message);
      CHECK(!message.empty());
      for (const std::string& name : c.names) CHECK(message.find(name) != std::string::npos);
    }
  }

  TEST_CASE("against PyTorch: chapter 16's TinyGPT with adapters, merged — logits, loss, adapter gradients") {
    // The fixtures (make_fixtures.py): functional_call with W + (α/r) B A on every block's
    // in_proj_weight and out_proj.weight, B nonzero, read by the given load_lora_files. Here: the given
    // lora_loss_and_gradients (merge_adapters, the merged model's loss and gradients, adapter_gradients:
    // lora_backward from the effective weights' gradients) — what chapter 18's LoRA training runs at
    // every step.
    const std::string root = std::string(COURSE_CHAPTERS_DIR) + "/18_pretrain_finetune/fixtures/";
    for (const char* name : {"one_layer_rank2", "two_layers_rank1", "rank_equals_width", "float32"}) {
      CAPTURE(name);
      const std::string dir = root + name;
      const test::FixtureArgs args = test::fixture_args(dir);
      const LoraFiles f = load_lora_files(dir, args.count("--heads"),
                                          args.has("--lora-alpha") ? args.number("--lora-alpha") : 0.0);
      LoraLossAndGradients r = lora_loss_and_gradients(f.model, f.adapters, f.ids, f.targets, f.ids.size());
      CHECK_CLOSE(r.merged.forward.logits, load_matrix(dir, "logits", "(T, V)"), 1e-9);
      CHECK_NEAR(r.merged.loss, load_scalar(dir, "loss"), 1e-9);
      std::vector<test::NamedGradient> named;
      for (const NamedTensor& t : named_tensors(r.grads))
        named.emplace_back(t.name, Matrix(xt::adapt(t.data, t.size, xt::no_ownership(), t.shape)));
      test::check_pytorch_gradients(dir, 1e-9, named);
    }
  }

  TEST_CASE("new_adapters: B zero, A within ±1/√E, so the merged model is the base, bit for bit") {
    Rng rng(7);
    TinyGptConfig c;
    c.vocab = 11;
    c.n_ctx = 6;
    c.d_model = 8;
    c.n_heads = 2;
    c.d_ff = 12;
    c.n_layers = 2;
    const TinyGpt base = random_tiny_gpt(rng, c);
    LoraAdapters a = new_adapters(rng, base, 3, 6.0);
    CHECK(a.rank() == 3);
    std::size_t numbers = 0;
    for (const NamedTensor& t : named_tensors(a)) numbers += t.size;
    CHECK(numbers == 2 * 3 * 6 * 8);  // blocks · r · (E + 3E + E + E)
    for (std::size_t l = 0; l < 2; ++l) {
      CHECK(a.in_B[l].shape(0) == 24);
      CHECK(xt::amax(xt::abs(a.in_B[l]))() == 0.0);
      CHECK(xt::amax(xt::abs(a.out_B[l]))() == 0.0);
      CHECK(xt::amax(xt::abs(a.in_A[l]))() <= 1.0 / std::sqrt(8.0));
      CHECK(xt::amax(xt::abs(a.out_A[l]))() > 0.0);
    }
    const TinyGpt merged = merge_adapters(base, a);
    for (std::size_t l = 0; l < 2; ++l) {
      CHECK(merged.blocks[l].self_attn.in_proj_weight == base.blocks[l].self_attn.in_proj_weight);
      CHECK(merged.blocks[l].self_attn.out_proj_weight == base.blocks[l].self_attn.out_proj_weight);
    }
  }
}  // TEST_SUITE

namespace {

Poem poem_of(const std::vector<std::u32string>& lines) {
  Poem p;
  p.title = "《例》";
  p.author = "佚名";
  p.lines = lines;
  return p;
}

FortuneEntry entry_of(const std::u32string& text) {
  return {text, "other", "chinese"};
}

}  // namespace

TEST_SUITE("given: 18 the pretraining corpus") {
  TEST_CASE("split_fortunes: entries between lines \"%\", blank ones left out") {
    const std::vector<std::string> e = split_fortunes("甲\n乙\n%\n丙\r\n%\n  \n%\n丁\n");
    REQUIRE(e.size() == 3);
    CHECK(e[0] == "甲\n乙");
    CHECK(e[1] == "丙");
    CHECK(e[2] == "丁");
  }

  TEST_CASE("clean_fortune: colour codes, indentation and the attribution out, the text kept") {
    // chinese's form: a text, then "    -- <author>《<book>》" in colour
    const CleanEntry a = clean_fortune(
        "\x1b[32m《詩經‧ 小雅》\x1b[m\n\n    有其義而亡其辭。\n\xc2\xa0\xc2\xa0\xe3\x80\x80次句。  \n"
        "\x1b[33m    -- 李白\x1b[32m《清明》\x1b[m\x1b[m");
    CHECK(encode_utf8(a.text) == "《詩經‧ 小雅》\n有其義而亡其辭。\n次句。\n");
    CHECK(encode_utf8(a.attribution) == "-- 李白《清明》");
    CHECK(encode_utf8(a.first_line) == "《詩經‧ 小雅》");
    // codes with parameters and an empty one; a dash line that is not the last is text
    const CleanEntry b = clean_fortune("\x1b[37;1m标题\x1b[;m\n    —— 网络基础设施。\n末句。");
    CHECK(encode_utf8(b.text) == "标题\n—— 网络基础设施。\n末句。\n");
    CHECK(b.attribution.empty());
    // a last line "——" is an attribution too
    CHECK(encode_utf8(clean_fortune("一句。\n    —— 某人").attribution) == "—— 某人");
    // song100's form: 题目: and 作者: lines first
    const CleanEntry c =
        clean_fortune("\x1b[32m题目:《塞上》\x1b[m\n\x1b[33m作者:柳开\x1b[m\n鸣骹直上一千尺，\n");
    CHECK(encode_utf8(c.text) == "鸣骹直上一千尺，\n");
    CHECK(encode_utf8(c.attribution) == "题目:《塞上》 作者:柳开");
    // nothing but an attribution: nothing kept
    CHECK(clean_fortune("\x1b[33m    --\x1b[32m《谚语》\x1b[m").text.empty());
    CHECK_THROWS_AS(clean_fortune("\xff\xfe"), std::invalid_argument);
  }

  TEST_CASE("kind_of: the first rule that matches, from the text alone") {
    const auto kind = [](const char* entry, const char* file = "chinese") {
      return kind_of(clean_fortune(entry), file);
    };
    CHECK(kind("《詩經‧ 國風‧ 周南‧ 關雎》\n關關雎鳩") == "诗经");
    CHECK(kind("学而时习之\n-- 论语，为政篇") == "论语");
    CHECK(kind("学而时习之\n    --《论语》") == "论语");
    CHECK(kind("道可道\n    --《道德经》") == "道德经");
    CHECK(kind("长江不拒细流\n    --《谚语》") == "谚语");
    CHECK(kind("相见易得好\n    --《增广贤文》") == "增广贤文");
    CHECK(kind("咬得菜根\n    --《菜根谭》") == "菜根谭");
    CHECK(kind("自由软件\n    -- Debian 《Debian 自由软件方针》第五条") == "Debian");
    CHECK(kind("备份\n    -- Osamu Aoki (青木修),") == "Debian");
    CHECK(kind("鸣骹直上一千尺，", "song100") == "song100");
    CHECK(kind("佳节清明桃李笑，野田荒冢只生愁。\n    -- 黄庭坚《清明》") == "五七言");
    CHECK(kind("花褪残红青杏小。燕子飞时，绿水人家绕。\n    -- 苏轼《蝶恋花·春景》") == "other");  // 4, 4
    CHECK(kind("谚语二字在正文里") == "other");  // only the attribution names a book
  }

  TEST_CASE("is_five_or_seven: every half-line 5 or 7 CJK characters") {
    CHECK(is_five_or_seven(U"床前明月光，疑是地上霜。\n"));
    CHECK(is_five_or_seven(U"天时人事日相催，冬至阳生春又来。\n"));
    CHECK(is_five_or_seven(U"床前明月光\n疑是地上霜\n"));       // line breaks cut too
    CHECK(is_five_or_seven(U"匝路亭亭艳，非时裛裛香。\n\n"));   // breaks in a row
    CHECK(!is_five_or_seven(U"花褪残红青杏小。燕子飞时，\n"));  // a half-line of 4
    CHECK(!is_five_or_seven(U"床前明月光光，疑是地上霜。\n"));  // a half-line of 6
    CHECK(!is_five_or_seven(U"床前明月光。ABCDE。\n"));         // not CJK
    CHECK(!is_five_or_seven(U"，。\n"));                        // no half-line
    CHECK(!is_five_or_seven(U""));
  }

  TEST_CASE("corpus_stats: entries, characters, CJK characters, vocabulary, by kind") {
    // "天地\n" (3 code points, 2 CJK) and "ab天\n" (4, 1 CJK): 7 characters, 3 CJK, vocabulary {天 地 a b \n}
    const CorpusStats s = corpus_stats({{U"天地\n", "谚语", "chinese"}, {U"ab天\n", "other", "chinese"}});
    CHECK(s.entries == 2);
    CHECK(s.characters == 7);
    CHECK(s.cjk == 3);
    CHECK(s.vocabulary == 5);
    const std::vector<std::string>& kinds = entry_kinds();
    const std::size_t proverbs =
        static_cast<std::size_t>(std::find(kinds.begin(), kinds.end(), "谚语") - kinds.begin());
    CHECK(s.entries_by_kind[proverbs] == 1);
    CHECK(s.characters_by_kind[proverbs] == 3);
    CHECK(s.entries_by_kind.back() == 1);  // other
    CHECK(is_cjk(U'\u4E00'));
    CHECK(is_cjk(U'\U00020000'));
    CHECK(!is_cjk(U'，'));
  }

  TEST_CASE("leakage: a shared run of 8 characters removes an entry, 7 do not; a shared line does") {
    const std::vector<Poem> held_out{poem_of({U"一二三四五六七八九十", U"君不见，"})};
    const LeakageFilter f = make_leakage_filter(held_out);
    CHECK(leaks(f, U"甲三四五六七八九十乙\n"));     // 三四五六七八九十: 8 shared
    CHECK(!leaks(f, U"甲三四五六七八九乙\n"));      // 三四五六七八九: 7 shared
    CHECK(leaks(f, U"丙三四五六\n七八九十丁\n"));   // 8 shared across a line break
    CHECK(leaks(f, U"前\n君不见，\n后\n"));         // a shared line of 4
    CHECK(!leaks(f, U"君不见，黄河之水天上来\n"));  // the line inside a longer one: 4 shared
    CHECK(leaks(f, U"七八九十君不见，\n"));         // a run across the poem's line break
    const std::vector<FortuneEntry> entries{entry_of(U"甲三四五六七八九十乙\n"),
                                            entry_of(U"甲三四五六七八九乙\n"),
                                            entry_of(U"一二三四五六七八九十\n"), entry_of(U"无关\n")};
    const LeakageRemoval r = remove_leakage(entries, f);
    CHECK(r.removed == 2);
    REQUIRE(r.kept.size() == 2);
    CHECK(r.kept[0].text == U"甲三四五六七八九乙\n");
    CHECK(r.kept[1].text == U"无关\n");
    // the self-check: the held-out line of 10 is in the third entry before, in none after
    CHECK(held_out_lines_found(entries, held_out) == 1);
    CHECK(held_out_lines_found(r.kept, held_out) == 0);
    const PretrainCorpus c = build_pretrain_corpus(entries, held_out);
    CHECK(c.read == 4);
    CHECK(c.removed == 2);
    CHECK(c.lines_found_before == 1);
  }

  TEST_CASE("held_out_poems: chapter 16's validation and test poems (i % 10 == 4 or 9), whole") {
    std::vector<Poem> poems;
    for (int i = 0; i < 20; ++i)
      poems.push_back(poem_of({std::u32string(1, static_cast<char32_t>(U'a' + i))}));
    const std::vector<Poem> h = held_out_poems(poems);
    REQUIRE(h.size() == 4);
    CHECK(h[0].lines[0] == U"e");  // 4
    CHECK(h[1].lines[0] == U"j");  // 9
    CHECK(h[2].lines[0] == U"o");  // 14
    CHECK(h[3].lines[0] == U"t");  // 19
  }

  TEST_CASE("read_fortunes: a missing file names the package and ./course setup") {
    try {
      read_fortunes("/nonexistent", kChineseFile);
      FAIL("no error");
    } catch (const usage_error& e) {
      const std::string m = e.what();
      CHECK(m.find("/nonexistent/chinese") != std::string::npos);
      CHECK(m.find("fortunes-zh") != std::string::npos);
      CHECK(m.find("./course setup") != std::string::npos);
    }
  }

  TEST_CASE("the real files: counted, and the leakage removed (counts printed)") {
    const std::vector<FortuneEntry> chinese = read_fortunes(kFortunesDir, kChineseFile);
    const std::vector<FortuneEntry> song = read_fortunes(kFortunesDir, kSong100File);
    const std::vector<Poem> held_out = held_out_poems(load_tang300());
    std::vector<FortuneEntry> all = chinese;
    all.insert(all.end(), song.begin(), song.end());
    const PretrainCorpus c = build_pretrain_corpus(all, held_out);
    const CorpusStats before = corpus_stats(all), after = corpus_stats(c.entries);
    MESSAGE(
        fmt::format("chinese {} entries, song100 {}; {} characters, {} CJK, vocabulary {}; held-out lines "
                    "of 8+ found {}; removed {} entries; kept {} entries, {} characters",
                    chinese.size(), song.size(), before.characters, before.cjk, before.vocabulary,
                    c.lines_found_before, c.removed, after.entries, after.characters));
    CHECK(chinese.size() > 5000);  // 5,263 entries in fortunes-zh 2.x; a few clean to nothing
    CHECK(song.size() == 95);
    CHECK(before.cjk > 250000);
    CHECK(c.lines_found_before > 0);  // there is leakage to remove
    CHECK(c.removed > 0);
    CHECK(held_out_lines_found(c.entries, held_out) == 0);
    CHECK(after.entries + c.removed == all.size());
    // what cleaning promises, on every entry: no control character but the line breaks (no colour code
    // is left), no line that starts or ends with indentation, no empty line
    std::size_t controls = 0, indented = 0, empty_lines = 0;
    for (const FortuneEntry& e : all) {
      for (char32_t ch : e.text) controls += (ch < 0x20 && ch != U'\n') || ch == 0x7f ? 1 : 0;
      for (std::size_t i = 0; i < e.text.size(); ++i) {
        const bool starts = i == 0 || e.text[i - 1] == U'\n',
                   ends = i + 1 == e.text.size() || e.text[i + 1] == U'\n';
        const bool space =
            e.text[i] == U' ' || e.text[i] == U'\u00A0' || e.text[i] == U'\u3000' || e.text[i] == U'\t';
        indented += space && (starts || ends) ? 1 : 0;
        empty_lines += e.text[i] == U'\n' && starts ? 1 : 0;
      }
    }
    CHECK(controls == 0);
    CHECK(indented == 0);
    CHECK(empty_lines == 0);
  }
}  // TEST_SUITE

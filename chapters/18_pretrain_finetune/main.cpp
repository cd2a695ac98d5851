// Chapter 18 — Pretrain, then fine-tune. So far (the chapter's groundwork): the pretraining corpus — the
// rest of Debian's fortunes-zh, `chinese` and `song100`, cleaned and counted by kind — with every entry
// that shares a line, or a run of 8 or more characters, with one of chapter 16's validation or test
// poems removed and the count printed; and the LoRA layer of the exercise on a small example (its
// output against the merged weight, its start at B = 0, the parameters it trains). Pretraining chapter
// 16's TinyGPT on the corpus and adapting it to the poems come next. With --load DIR: PyTorch's
// TinyGPT with LoRA adapters on every block's attention (logits, loss, and the adapters' gradients).
//
//   build/bin/ch18_pretrain_finetune [--fortunes DIR] [--rank R] [--lora-alpha A] [--seed S] [--svg DIR]
//                                    [--no-color]
//   build/bin/ch18_pretrain_finetune --load DIR [--heads H] [--lora-alpha A] [--save DIR]
//
// The program's shape: Options (the flags); compute() fills one named struct with everything the
// program shows; show_* print it, draw() writes its figure (nothing without --svg), self_checks()
// checks it; run() calls them in that order. run_loaded() does the same for --load.
#include "18_pretrain_finetune/given.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "linalg.hpp"
#include "print.hpp"
#include "results.hpp"
#include "rng.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace course;

namespace {

// The LoRA example's layer: a square (E, E) weight, as the attention's out-projection.
constexpr int kExampleWidth = 8;
constexpr int kExampleTokens = 4;

struct Options {
  CommonOptions common;
  std::string fortunes = kFortunesDir;  // --fortunes DIR: chinese, song100 and tang300 (tests: a missing one)
  int rank = 2;                         // r of the LoRA example
  double alpha = 0;                     // α of the LoRA example or of the --load files; 0: r
  bool rank_given = false;
  int heads = 4;  // --heads H (--load files only)
  bool heads_given = false;
};

// The LoRA example: one layer, its adapters, and what they give.
struct LoraExample {
  double alpha = 0;
  Matrix x, W, A, B;           // x (T, E), W (E, E), A (r, E), B (E, r), B nonzero
  Matrix y, y_merged, update;  // lora_forward; x · merge_loraᵀ; merge_lora − W (rank r)
  double start_error = 0;      // max |lora_forward with B = 0 − x Wᵀ|
  std::size_t base_parameters = 0, adapter_parameters = 0;
};

// Everything the program shows, computed once.
struct Example {
  std::size_t poems = 0, validation_poems = 0, test_poems = 0, held_out_lines = 0;  // lines of 8+
  CorpusStats chinese, song100;  // each file, cleaned, before leakage removal
  PretrainCorpus corpus;         // both, leakage removed
  CorpusStats kept;              // corpus_stats(corpus.entries)
  std::size_t lines_found_after = 0;
  LoraExample lora;
};

std::size_t long_lines(const std::vector<Poem>& poems) {
  std::size_t n = 0;
  for (const Poem& p : poems)
    for (const std::u32string& line : p.lines) n += line.size() >= 8 ? 1 : 0;
  return n;
}

// The LoRA example: W and x uniform in ±1, A uniform in ±1/√E, B uniform in ±1 (trained adapters are
// nonzero; LoRA starts B at zero).
LoraExample lora_example(const Options& opt) {
  Rng rng(opt.common.seed);
  const std::size_t E = kExampleWidth, T = kExampleTokens, r = static_cast<std::size_t>(opt.rank);
  LoraExample l;
  l.alpha = opt.alpha > 0 ? opt.alpha : static_cast<double>(r);
  l.x = rng.uniform_matrix(T, E, -1.0, 1.0);
  l.W = rng.uniform_matrix(E, E, -1.0, 1.0);
  const double bound = 1.0 / std::sqrt(static_cast<double>(E));
  l.A = rng.uniform_matrix(r, E, -bound, bound);
  l.B = rng.uniform_matrix(E, r, -1.0, 1.0);
  l.y = lora_forward(l.x, l.W, l.A, l.B, l.alpha);
  const Matrix merged = merge_lora(l.W, l.A, l.B, l.alpha);
  l.y_merged = product_nt(l.x, merged);
  l.update = merged - l.W;
  const Matrix zero_B = xt::zeros<double>({E, r});
  l.start_error = max_abs_diff(lora_forward(l.x, l.W, l.A, zero_B, l.alpha), product_nt(l.x, l.W));
  l.base_parameters = E * E;
  l.adapter_parameters = r * (E + E);
  return l;
}

// 1. Compute: read the files, clean, count, remove the leakage; the LoRA example.
Example compute(const Options& opt) {
  Example e;
  std::vector<FortuneEntry> entries = read_fortunes(opt.fortunes, kChineseFile);
  const std::vector<FortuneEntry> song = read_fortunes(opt.fortunes, kSong100File);
  const std::vector<Poem> poems = load_tang300(opt.fortunes + "/tang300");
  const std::vector<Poem> held_out = held_out_poems(poems);
  e.poems = poems.size();
  for (std::size_t i = 0; i < poems.size(); ++i) {
    e.validation_poems += poem_part(i) == PoemPart::validation ? 1 : 0;
    e.test_poems += poem_part(i) == PoemPart::test ? 1 : 0;
  }
  e.held_out_lines = long_lines(held_out);
  e.chinese = corpus_stats(entries);
  e.song100 = corpus_stats(song);
  entries.insert(entries.end(), song.begin(), song.end());
  e.corpus = build_pretrain_corpus(entries, held_out);
  e.kept = corpus_stats(e.corpus.entries);
  e.lines_found_after = held_out_lines_found(e.corpus.entries, held_out);
  e.lora = lora_example(opt);
  return e;
}

// "12,345"
std::string thousands(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// 2. Print every result.
void show_corpus(const Example& e) {
  print_section("1. The pretraining text: fortunes-zh's chinese and song100, cleaned");
  fmt::print(
      "Cleaned: colour codes, the attribution lines (\"-- ...\", 题目:/作者:), indentation and empty\n"
      "lines removed; the text kept. Characters are code points, line breaks included.\n\n");
  const std::vector<std::string>& kinds = entry_kinds();
  fmt::print("{}{:>10}{:>12}{:>10}{:>12}\n", pad_right("kind", 10), "entries", "characters", "kept",
             "kept chars");
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    const std::size_t entries = e.chinese.entries_by_kind[k] + e.song100.entries_by_kind[k];
    const std::size_t chars = e.chinese.characters_by_kind[k] + e.song100.characters_by_kind[k];
    fmt::print("{}{:>10}{:>12}{:>10}{:>12}\n", pad_right(kinds[k], 10), thousands(entries), thousands(chars),
               thousands(e.kept.entries_by_kind[k]), thousands(e.kept.characters_by_kind[k]));
  }
  const auto total = [](const char* name, const CorpusStats& s) {
    fmt::print("{}{:>10}{:>12} characters, {} CJK, a vocabulary of {}\n", pad_right(name, 10),
               thousands(s.entries), thousands(s.characters), thousands(s.cjk), thousands(s.vocabulary));
  };
  fmt::print("\n");
  total("chinese", e.chinese);
  total("song100", e.song100);
  total("kept", e.kept);
}

void show_leakage(const Example& e) {
  print_section("2. Leakage: the held-out poems of chapter 16's split, removed from the pretraining text");
  fmt::print(
      "唐诗三百首: {} poems; {} validation and {} test poems (chapter 16's split, whole poems) hold\n"
      "{} lines of 8 or more characters.\n",
      e.poems, e.validation_poems, e.test_poems, e.held_out_lines);
  fmt::print("Before: {} of those lines appear verbatim in the pretraining text.\n",
             e.corpus.lines_found_before);
  fmt::print(
      "Removed: {} of {} entries, each sharing a line, or a run of 8 or more characters, with a\n"
      "held-out poem. After: {} of those lines appear.\n",
      thousands(e.corpus.removed), thousands(e.corpus.read), e.lines_found_after);
}

void show_lora(const LoraExample& l) {
  print_section("3. The LoRA layer (the exercise): W_eff = W + (α/r) B A, W frozen");
  print_config("layer",
               fmt::format("W ({0}, {0}), A ({1}, {0}), B ({0}, {1}), α = {2:g}, s = α/r = {3:g}",
                           l.W.shape(0), l.A.shape(0), l.alpha, l.alpha / static_cast<double>(l.A.shape(0))));
  print_matrix("y = lora_forward(x, W, A, B, α) (T, E)", l.y);
  fmt::print("trainable: {} numbers in A and B against {} in W ({:.0f}%): r (in + out) against in · out\n",
             l.adapter_parameters, l.base_parameters,
             100.0 * static_cast<double>(l.adapter_parameters) / static_cast<double>(l.base_parameters));
}

// 3. Draw the figure: the update the adapters make, of rank r.
void draw(const Example& e, Figures& figures) {
  const LoraExample& l = e.lora;
  figures.heatmap("18-lora-update.svg", l.update,
                  heatmap_spec(fmt::format("W_eff − W = (α/r) B A, rank {}", l.A.shape(0)),
                               numbered("o", l.update.shape(0)), numbered("i", l.update.shape(1)), "output o",
                               "input i"));
}

// 4. The closing self-checks, from the results alone.
SelfChecks self_checks(const Example& e) {
  print_section("Self-checks");
  SelfChecks checks;
  checks.expect("no held-out line of 8+ characters left in the pretraining text", e.lines_found_after == 0,
                fmt::format("{} before, {} after", e.corpus.lines_found_before, e.lines_found_after));
  checks.expect("entries kept + removed = entries read", e.kept.entries + e.corpus.removed == e.corpus.read,
                fmt::format("{} + {} = {}", e.kept.entries, e.corpus.removed, e.corpus.read));
  checks.below("lora_forward = x · merge_loraᵀ", max_abs_diff(e.lora.y, e.lora.y_merged), 1e-12);
  checks.below("B = 0 gives the base layer x Wᵀ", e.lora.start_error, 1e-12);
  return checks;
}

int run(const Options& opt) {
  print_title("Chapter 18 · Pretrain, then fine-tune (the groundwork: corpus and LoRA)");
  print_config("data", fmt::format("{}/{{chinese, song100, tang300}} (Debian's fortunes-zh)", opt.fortunes));
  print_config("seed", std::to_string(opt.common.seed));
  const Example e = compute(opt);
  show_corpus(e);
  show_leakage(e);
  show_lora(e.lora);
  Figures figures(opt.common);
  draw(e, figures);
  const SelfChecks checks = self_checks(e);
  figures.report();
  fmt::print(
      "\nNext in this chapter: chapter 16's TinyGPT pretrained on this text, then adapted to the\n"
      "training poems by full fine-tuning and by LoRA, against training from scratch.\n");
  return checks.exit_code();
}

// ---- --load: PyTorch's TinyGPT with LoRA adapters ------------------------------------------------------

// Scaling A by c and B by 1/c leaves B A, and so the loss, unchanged: the loss's derivative along c
// at c = 1 is 0, that is ⟨A, dL/dA⟩ = ⟨B, dL/dB⟩ (both are s · tr(Bᵀ G Aᵀ) by lora_backward's
// formulas). Returns |⟨A, dA⟩ − ⟨B, dB⟩| relative to the sizes of the terms summed.
double balance_error(const Matrix& A, const Matrix& dA, const Matrix& B, const Matrix& dB) {
  const double a = xt::sum(A * dA)(), b = xt::sum(B * dB)();
  const double terms = xt::sum(xt::abs(A * dA))() + xt::sum(xt::abs(B * dB))();
  return terms > 0 ? std::abs(a - b) / terms : 0.0;
}

// The adapted model's logits (T, V), its mean cross-entropy against targets.npy, and the gradients of
// the four adapters of every block — the base frozen — as PyTorch's functional_call and loss.backward()
// give them (make_fixtures.py).
int run_loaded(const Options& opt) {
  if (opt.rank_given)
    throw usage_error("--rank is the LoRA example's rank; with --load, r is read from the adapters' files");
  LoraFiles f = load_lora_files(opt.common.load_dir, static_cast<std::size_t>(opt.heads));
  const TinyGptConfig& c = f.model.config;
  const std::size_t T = f.ids.size(), r = f.rank;
  const double alpha = opt.alpha > 0 ? opt.alpha : static_cast<double>(r);
  print_title("Chapter 18 · Pretrain, then fine-tune — a PyTorch TinyGPT with LoRA adapters");
  print_config("loaded", fmt::format("{}: V = {}, n_ctx = {}, E = {}, H = {}, F = {}, {} block(s), T = {}",
                                     opt.common.load_dir, c.vocab, c.n_ctx, c.d_model, c.n_heads, c.d_ff,
                                     c.n_layers, T));
  print_config("adapters", fmt::format("r = {}, α = {:g}, s = α/r = {:g}: W + s·B·A on every block's "
                                       "in_proj_weight and out_proj.weight",
                                       r, alpha, alpha / static_cast<double>(r)));
  LoraLossAndGradients g = lora_loss_and_gradients(f.model, f.adapters, alpha, f.ids, f.targets, T);
  // per block: A (r, E) and B (3E, r) on the in-projection, A (r, E) and B (E, r) on the out-projection
  const std::size_t trained = c.n_layers * r * 6 * c.d_model, frozen = parameter_count(f.model);
  print_section("logits (T, V) and the mean cross-entropy against targets.npy");
  std::vector<NamedResult> results = {
      shown_matrix("logits", g.forward.logits, "logits"), scalar_result("loss", g.loss, [&] {
        fmt::print("loss = {:.12f}\n", g.loss);
        fmt::print(
            "and the gradients of the adapters only: {} numbers trained, the base's {} frozen\n"
            "(--save DIR writes them as <adapter key>.grad.npy)\n",
            trained, frozen);
      })};
  append_named(results, named_lora_tensors(g.grads), ".grad");
  report_results(results, opt.common.save_dir);
  print_section("Self-checks");
  SelfChecks checks;
  double balance = 0;
  for (std::size_t i = 0; i < c.n_layers; ++i) {
    const BlockLora &a = f.adapters[i], &d = g.grads[i];
    balance = std::max({balance, balance_error(a.in_A, d.in_A, a.in_B, d.in_B),
                        balance_error(a.out_A, d.out_A, a.out_B, d.out_B)});
  }
  checks.below("⟨A, dL/dA⟩ = ⟨B, dL/dB⟩ for every adapter pair (A → cA, B → B/c keeps B A)", balance, 1e-10);
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 18: Pretrain, then fine-tune", "ch18_pretrain_finetune"};
  Options opt;
  app.add_option(
      "--fortunes", opt.fortunes,
      "The directory of fortunes-zh's chinese, song100 and tang300 (default /usr/share/games/fortunes)");
  add_size_option(app, "--rank", opt.rank, "Rank r of the LoRA example's adapters (2)", 1, kExampleWidth,
                  "at most E = 8, the example layer's width");
  app.add_option("--lora-alpha", opt.alpha,
                 "α of the LoRA example, or of the --load files' adapters (default r): s = α / r")
      ->check(positive_up_to(1e6));
  add_size_option(app, "--heads", opt.heads, "Heads H of the --load files", 4096);
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] {
    opt.rank_given = app.count("--rank") > 0;
    opt.heads_given = app.count("--heads") > 0;
    if (!opt.common.load_dir.empty()) return run_loaded(opt);
    require_load_for(opt.common, opt.heads_given, "--heads describes --load files");
    return run(opt);
  });
}

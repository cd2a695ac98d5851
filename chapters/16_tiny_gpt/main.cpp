// Chapter 16 — a tiny GPT: a decoder-only transformer trained character by character on 唐诗三百首
// (Debian's fortunes-zh). The program reads the poems, counts a bigram baseline from the training
// poems, trains a small TinyGPT with AdamW, compares its bits per character on held-out poems with the
// bigram's, samples poems (greedy, temperature, top-k) from the course's seeded generator, measures
// what the trained heads attend to on held-out poems, and trains the same model without positions to
// measure that it cannot learn the lines' shape. With --load DIR: PyTorch's TinyGPT files (logits, and
// with targets.npy the loss and every parameter's gradient).
//
//   build/bin/ch16_tiny_gpt [--full] [--train-steps N] [--temperature T] [--top-k K] [--seed S]
//                           [--svg DIR] [--no-color]
//   build/bin/ch16_tiny_gpt --load DIR [--heads H] [--save DIR]
//
// The program's shape: Options (the flags); compute() fills named structs; show_* print them, draw()
// writes the figures (nothing without --svg), self_checks() checks every claim; run() calls them in
// that order. run_loaded() does the same for --load.
#include "cli.hpp"
#include "figures.hpp"
#include "given/16_tiny_gpt.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "rng.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  bool full = false;
  int train_steps = 0;  // 0: the run's own
  bool train_steps_given = false;
  double temperature = 0.8;
  int top_k = 10;
  int heads = 4;  // --heads H (--load files only)
  bool heads_given = false;
  std::string data = kTang300Path;  // --data FILE (tests point it at a missing file)
};

// The two runs: the default trains a small model for a few seconds, --full a larger one for minutes.
struct RunConfig {
  TinyGptConfig model;
  std::size_t batch = 16, steps = 0, report_every = 0;
  double lr = 3e-3, weight_decay = 0.01;
  std::size_t draws = 4;  // samples per held-out poem, per model, to count the lines' shape
};

RunConfig run_config(const Options& opt, std::size_t vocab) {
  RunConfig r;
  r.model.vocab = vocab;
  if (opt.full) {
    // 22,400 training characters are little for 300,000 parameters, and weight decay 0.1 let the model
    // overfit (measured: held-out 8.53 bits at step 400, 9.20 at step 1000); with 1.0 the held-out
    // loss was 8.39 from step 720 to 960 and 8.43 at step 1200, and the share of regular sampled lines
    // still grew (28% at step 800, 39% at step 1200)
    r.model.n_ctx = 64;
    r.model.d_model = 48;
    r.model.n_heads = 4;
    r.model.d_ff = 192;
    r.model.n_layers = 2;
    r.batch = 16;
    r.steps = 1000;
    r.lr = 1e-3;
    r.weight_decay = 1.0;
  } else {
    r.model.n_ctx = 32;
    r.model.d_model = 32;
    r.model.n_heads = 4;
    r.model.d_ff = 64;
    r.model.n_layers = 1;
    r.batch = 16;
    r.steps = 50;
  }
  if (opt.train_steps_given) r.steps = static_cast<std::size_t>(opt.train_steps);
  r.report_every = std::max<std::size_t>(1, r.steps / 10);
  return r;
}

// A run's cost in cli.hpp's units: two models trained, the held-out set evaluated at 11 reports, the
// samples generated one token at a time (the blocks over the whole context, the head on the last
// position), the multiply-adds counted from the sizes times kOverhead. Measured here (user time, a
// busy 2-core machine), 50 default steps with both models, the evaluations and the samples took 6.1 s,
// where cli.hpp's 2e9 plain multiply-adds take about 3.2 s: most of the work runs in OpenBLAS's
// products, faster than plain multiply-adds.
constexpr double kOverhead = 0.25;
Cost cost_of(const RunConfig& r, std::size_t held_out_chars, std::size_t held_out_poems) {
  const double step = training_step_multiply_adds(r.model, r.batch, r.model.n_ctx);
  const double per_token_forward = step / 3.0 / static_cast<double>(r.batch * r.model.n_ctx);
  const double evals = 11.0 * static_cast<double>(held_out_chars) * per_token_forward;
  const double E = r.model.d_model, V = static_cast<double>(r.model.vocab);
  const double per_token_body = per_token_forward - V * E;  // the blocks; generation runs the head once
  const double sampled = static_cast<double>(held_out_poems * r.draws + 3) * (r.model.n_ctx - 1.0);
  const double samples = 2.0 * sampled * (r.model.n_ctx * per_token_body + V * E);
  const double work = 2.0 * (static_cast<double>(r.steps) * step + evals) + samples;
  const double rows = 64.0 * r.model.n_ctx;
  return {8.0 * rows * (40.0 * r.model.d_ff * r.model.n_layers + 3.0 * r.model.vocab), kOverhead * work};
}
// The default run trains on the spot (about 6 s here); up to about 60 --train-steps fit. --full takes
// minutes, like a benchmark.
constexpr Limits kDefaultLimits{memory_limit_bytes, 3 * work_limit};
constexpr Limits kFullLimits{memory_limit_bytes, 400 * work_limit};

// ---- training ---------------------------------------------------------------------------------------

struct TrainingRun {
  std::vector<double> losses;             // training loss before each step (nats)
  std::vector<std::size_t> report_steps;  // where the held-out loss was measured
  std::vector<double> held_out_bits;      // bits per character on the held-out poems there
  TinyGpt model;
  std::size_t parameters = 0;
};

// The texts as ids, and where the model reads them: training windows start at a line start (drawn
// from train_starts), the held-out text is read in whole-line windows (evaluation_windows).
struct Texts {
  std::vector<std::size_t> train_ids, held_ids;
  std::vector<std::size_t> train_starts;
  std::vector<Window> held_windows;
};

double held_out_bits(const TinyGpt& model, const Texts& x) {
  return mean_loss(model, x.held_ids, x.held_windows).loss / std::log(2.0);
}

TrainingRun train(const RunConfig& r, const TinyGptConfig& mc, std::uint64_t seed, const Texts& x,
                  std::size_t steps, bool evaluate) {
  Rng rng(seed);
  TrainingRun t;
  t.model = random_tiny_gpt(rng, mc);
  t.parameters = parameter_count(t.model);
  AdamW optimizer(AdamWOptions{r.lr, 0.9, 0.999, 1e-8, r.weight_decay});
  for (std::size_t step = 0; step < steps; ++step) {
    if (evaluate && step % r.report_every == 0) {
      t.report_steps.push_back(step);
      t.held_out_bits.push_back(held_out_bits(t.model, x));
    }
    t.losses.push_back(train_step(
        t.model, optimizer, training_batch(rng, x.train_ids, x.train_starts, r.batch, mc.n_ctx), mc.n_ctx));
  }
  if (evaluate) {
    t.report_steps.push_back(steps);
    t.held_out_bits.push_back(held_out_bits(t.model, x));
  }
  return t;
}

// ---- the lines' shape ---------------------------------------------------------------------------------

// A regular line: two half-lines of the same length, 5 or 7 characters each, "，" after the first and
// "。", "？" or "！" after the second: 春眠不觉晓，处处闻啼鸟。
bool regular_line(const std::u32string& line) {
  for (std::size_t n : {5u, 7u}) {
    if (line.size() != 2 * n + 2 || line[n] != U'，') continue;
    const char32_t end = line.back();
    if (end != U'。' && end != U'？' && end != U'！') continue;
    bool plain = true;
    for (std::size_t i = 0; i < line.size(); ++i)
      if (i != n && i + 1 != line.size()) plain = plain && line[i] >= 0x4E00 && line[i] <= 0x9FFF;
    if (plain) return true;
  }
  return false;
}

struct LineShape {
  std::size_t lines = 0, regular = 0;
  // the pieces between punctuation marks or line breaks, and those of 5 or 7 characters
  std::size_t half_lines = 0, half_lines_5_or_7 = 0;
  double half_share() const {
    return half_lines == 0 ? 0.0 : static_cast<double>(half_lines_5_or_7) / static_cast<double>(half_lines);
  }
  double share() const {
    return lines == 0 ? 0.0 : static_cast<double>(regular) / static_cast<double>(lines);
  }
  LineShape& operator+=(const LineShape& o) {
    lines += o.lines;
    regular += o.regular;
    half_lines += o.half_lines;
    half_lines_5_or_7 += o.half_lines_5_or_7;
    return *this;
  }
};

// the non-empty lines of a text, except the last (it may be cut off)
LineShape line_shape(const std::u32string& text) {
  LineShape s;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != U'\n') continue;
    const std::u32string line = text.substr(start, i - start);
    if (!line.empty()) {
      ++s.lines;
      if (regular_line(line)) ++s.regular;
    }
    start = i + 1;
  }
  // half-lines: the non-empty pieces between '，', '。', '？', '！' and '\n' (the last piece left out)
  std::size_t length = 0;
  for (char32_t ch : text) {
    if (ch == U'，' || ch == U'。' || ch == U'？' || ch == U'！' || ch == U'\n') {
      if (length > 0) {
        ++s.half_lines;
        if (length == 5 || length == 7) ++s.half_lines_5_or_7;
      }
      length = 0;
    } else {
      ++length;
    }
  }
  return s;
}

// ---- the whole default run ----------------------------------------------------------------------------

struct HeadStatistics {
  // mean weight, over the held-out regular lines' second half-lines, on: the same place in the first
  // half-line (i − n − 1), the character just before (i − 1), the line's first character
  std::vector<std::vector<double>> parallel, previous, line_start;  // [block][head]
  std::size_t queries = 0;
  double uniform =
      0;  // what each would be if every head spread its weight evenly over the past: mean 1/(i+1)
};

struct Samples {
  std::string prompt;
  std::string greedy, temperature, top_k;
};

struct Example {
  RunConfig config;
  std::size_t poems = 0;
  Corpus corpus;
  Vocabulary vocab;
  Texts text;
  std::string held_out_poem;     // the first held-out poem
  double bigram_bits = 0;        // add-one, on the predicted held-out positions
  double bigram_small_bits = 0;  // add-0.01
  double model_bits = 0;
  TrainingRun with_positions, without_positions;
  std::vector<double> rerun_losses;
  Samples samples;
  // the heads on the first held-out poem's first line
  std::vector<std::size_t> map_ids;
  std::vector<Tensor3> maps;  // [block] (H, T, T)
  HeadStatistics heads;
  LineShape shape_corpus, shape_with, shape_without;
  double without_bits = 0;
};

std::u32string to_u32(const Vocabulary& v, const std::vector<std::size_t>& ids) {
  std::u32string s;
  for (std::size_t id : ids) s.push_back(v.chars[id]);
  return s;
}

// the attention of every block and head on held-out regular lines, each read on its own
HeadStatistics head_statistics(const TinyGpt& model, const Vocabulary& vocab,
                               const std::vector<Poem>& poems) {
  const TinyGptConfig& c = model.config;
  HeadStatistics s;
  s.parallel.assign(c.n_layers, std::vector<double>(c.n_heads, 0.0));
  s.previous = s.parallel;
  s.line_start = s.parallel;
  for (std::size_t p = 0; p < poems.size(); ++p) {
    if (!is_held_out(p)) continue;
    for (const std::u32string& line : poems[p].lines) {
      if (!regular_line(line) || line.size() > c.n_ctx) continue;
      const std::size_t n = (line.size() - 2) / 2, T = line.size();
      const TinyGptForward f = tiny_gpt_forward(model, vocab.encode(line), T);
      for (std::size_t l = 0; l < c.n_layers; ++l) {
        const Tensor4& w = f.blocks[l].saved.weights;  // (1, H, T, T)
        for (std::size_t h = 0; h < c.n_heads; ++h) {
          for (std::size_t i = n + 2; i < 2 * n + 1;
               ++i) {  // the second half-line's characters after its first
            s.parallel[l][h] += w(0, h, i, i - n - 1);
            s.previous[l][h] += w(0, h, i, i - 1);
            s.line_start[l][h] += w(0, h, i, 0);
          }
        }
      }
      for (std::size_t i = n + 2; i < 2 * n + 1; ++i) s.uniform += 1.0 / static_cast<double>(i + 1);
      s.queries += n - 1;
    }
  }
  s.uniform /= static_cast<double>(s.queries);
  for (std::size_t l = 0; l < c.n_layers; ++l) {
    for (std::size_t h = 0; h < c.n_heads; ++h) {
      s.parallel[l][h] /= static_cast<double>(s.queries);
      s.previous[l][h] /= static_cast<double>(s.queries);
      s.line_start[l][h] /= static_cast<double>(s.queries);
    }
  }
  return s;
}

// A --data file too small to train on, or without a regular line to measure the heads on.
void require_enough_text(const std::vector<Poem>& poems, std::size_t n_ctx, const std::string& data) {
  const Corpus corpus = split_poems(poems);
  if (corpus.train.size() < 2 * (n_ctx + 1) || corpus.held_out.size() < n_ctx + 1) {
    throw usage_error(fmt::format("{}: too little text for windows of {} characters", data, n_ctx + 1));
  }
  bool regular = false;
  for (std::size_t p = 0; p < poems.size(); ++p)
    for (const std::u32string& line : poems[p].lines)
      regular = regular || (is_held_out(p) && regular_line(line) && line.size() <= n_ctx);
  if (!regular) throw usage_error(fmt::format("{}: no held-out poem has a regular line", data));
}

Example compute(const Options& opt, const std::vector<Poem>& poems) {
  Example e;
  e.poems = poems.size();
  e.corpus = split_poems(poems);
  e.vocab = make_vocabulary(poems);
  e.config = run_config(opt, e.vocab.size());
  e.text.train_ids = e.vocab.encode(e.corpus.train);
  e.text.held_ids = e.vocab.encode(e.corpus.held_out);
  const std::size_t newline = e.vocab.ids.at(U'\n');
  e.text.train_starts = line_starts(e.text.train_ids, newline);
  e.text.held_windows = evaluation_windows(e.text.held_ids, newline, e.config.model.n_ctx);
  e.held_out_poem = encode_utf8(poem_text(poems[9]));
  const TinyGptConfig& mc = e.config.model;
  // 1. the bigram, counted from the training text, on the positions the model predicts
  const Bigram bigram = count_bigrams(e.text.train_ids, mc.vocab);
  // 2. train with and without positions, from the same seed
  e.with_positions = train(e.config, mc, opt.common.seed, e.text, e.config.steps, true);
  const TextLoss held = mean_loss(e.with_positions.model, e.text.held_ids, e.text.held_windows);
  e.model_bits = held.loss / std::log(2.0);
  e.bigram_bits = bigram_bits_per_char(bigram, e.text.held_ids, held.predicted_positions);
  e.bigram_small_bits = bigram_bits_per_char(count_bigrams(e.text.train_ids, mc.vocab, 0.01), e.text.held_ids,
                                             held.predicted_positions);
  TinyGptConfig no_pos = mc;
  no_pos.positions = false;
  e.without_positions = train(e.config, no_pos, opt.common.seed, e.text, e.config.steps, false);
  e.without_bits = held_out_bits(e.without_positions.model, e.text);
  // 3. the first steps again: the same bits
  e.rerun_losses =
      train(e.config, mc, opt.common.seed, e.text, std::min<std::size_t>(3, e.config.steps), false).losses;
  // 4. samples from the first character of the held-out poem
  const std::vector<std::size_t> prompt = e.vocab.encode(poems[9].lines[0].substr(0, 1));
  e.samples.prompt = e.vocab.decode(prompt);
  Rng sample_rng(opt.common.seed + 2);
  SamplingOptions greedy, warm, topk;
  greedy.greedy = true;
  warm.temperature = opt.temperature;
  topk.temperature = opt.temperature;
  topk.top_k = static_cast<std::size_t>(opt.top_k);
  e.samples.greedy =
      e.vocab.decode(generate(e.with_positions.model, prompt, mc.n_ctx - 1, greedy, sample_rng));
  e.samples.temperature =
      e.vocab.decode(generate(e.with_positions.model, prompt, mc.n_ctx - 1, warm, sample_rng));
  e.samples.top_k = e.vocab.decode(generate(e.with_positions.model, prompt, mc.n_ctx - 1, topk, sample_rng));
  // 5. the heads: on the held-out poem's first line, and measured on every held-out regular line
  const std::u32string first_line = poems[9].lines[0];
  e.map_ids = e.vocab.encode(first_line.substr(0, std::min(first_line.size(), mc.n_ctx)));
  const TinyGptForward f = tiny_gpt_forward(e.with_positions.model, e.map_ids, e.map_ids.size());
  for (const EncoderLayerForward& b : f.blocks)
    e.maps.push_back(xt::view(b.saved.weights, 0, xt::all(), xt::all(), xt::all()));
  e.heads = head_statistics(e.with_positions.model, e.vocab, poems);
  // 6. the lines' shape: the held-out poems, and text generated by each model (top-k sampling), one
  //    window from each held-out poem's first character, draws times
  e.shape_corpus = line_shape(e.corpus.held_out);
  Rng with_rng(opt.common.seed + 3), without_rng(opt.common.seed + 3);
  for (std::size_t p = 0; p < poems.size(); ++p) {
    if (!is_held_out(p)) continue;
    const std::vector<std::size_t> first = e.vocab.encode(poems[p].lines[0].substr(0, 1));
    for (std::size_t d = 0; d < e.config.draws; ++d) {
      e.shape_with +=
          line_shape(to_u32(e.vocab, generate(e.with_positions.model, first, mc.n_ctx - 1, topk, with_rng)));
      e.shape_without += line_shape(
          to_u32(e.vocab, generate(e.without_positions.model, first, mc.n_ctx - 1, topk, without_rng)));
    }
  }
  return e;
}

std::string percent(double x) {
  return fmt::format("{:.1f}%", 100.0 * x);
}

void show_data(const Example& e) {
  print_section("1. The data: 唐诗三百首, character by character");
  fmt::print("{} poems: {} for training ({} characters), {} held out (every tenth: {} characters)\n", e.poems,
             e.corpus.train_poems, e.text.train_ids.size(), e.corpus.held_out_poems, e.text.held_ids.size());
  fmt::print("vocabulary: {} characters (with '\\n'; sorted by code point)\n", e.vocab.size());
  fmt::print("the first held-out poem, as the model reads it:\n{}", e.held_out_poem);
}

void show_training(const Example& e) {
  print_section("2. Training: the loss before each step; bits per character on the held-out poems");
  const TrainingRun& t = e.with_positions;
  fmt::print("{:>6}  {:>12}  {:>18}\n", "step", "train (nats)", "held-out bits/char");
  for (std::size_t k = 0; k < t.report_steps.size(); ++k) {
    const std::size_t s = t.report_steps[k];
    const std::string loss = s < t.losses.size() ? fmt::format("{:.4f}", t.losses[s]) : "";
    fmt::print("{:>6}  {:>12}  {:>18.4f}\n", s, loss, t.held_out_bits[k]);
  }
  fmt::print("uniform guessing: log2 {} = {:.4f} bits per character\n", e.vocab.size(),
             std::log2(static_cast<double>(e.vocab.size())));
  fmt::print("bigram baselines, counted from the training poems, on the same held-out characters:\n");
  fmt::print("  add-one smoothing:    {:.4f} bits per character\n", e.bigram_bits);
  fmt::print("  add-0.01 smoothing:   {:.4f} bits per character\n", e.bigram_small_bits);
  fmt::print("TinyGPT after {} steps: {:.4f} bits per character\n", e.config.steps, e.model_bits);
}

// a sample on one line: each '\n' shown as " / "
std::string one_line(const std::string& text) {
  std::string out;
  for (char ch : text) out += ch == '\n' ? std::string(" / ") : std::string(1, ch);
  return out;
}

void show_samples(const Example& e, const Options& opt) {
  print_section(fmt::format("3. Samples: {} characters after 「{}」, one window (a line break shown as /)",
                            e.config.model.n_ctx - 1, e.samples.prompt));
  fmt::print("greedy:\n  {}\n", one_line(e.samples.greedy));
  fmt::print("temperature {:g}:\n  {}\n", opt.temperature, one_line(e.samples.temperature));
  fmt::print("temperature {:g}, top-k {}:\n  {}\n", opt.temperature, opt.top_k, one_line(e.samples.top_k));
}

void show_heads(const Example& e) {
  print_section("4. What the heads learned");
  const std::size_t n = e.config.model.n_layers, H = e.config.model.n_heads;
  fmt::print(
      "mean weight from the second half-line of a held-out regular line ({} queries) on:\n"
      "the same place in the first half-line, the character just before, the line's first character\n",
      e.heads.queries);
  for (std::size_t l = 0; l < n; ++l)
    for (std::size_t h = 0; h < H; ++h)
      fmt::print("  block {} head {}:  {:.3f}  {:.3f}  {:.3f}\n", l, h, e.heads.parallel[l][h],
                 e.heads.previous[l][h], e.heads.line_start[l][h]);
  fmt::print("(a head spreading its weight evenly over the past would give each {:.3f})\n", e.heads.uniform);
}

void show_without_positions(const Example& e) {
  print_section("5. The same model without positions: the lines' shape");
  fmt::print("held-out bits per character: {:.4f} without positions, {:.4f} with\n", e.without_bits,
             e.model_bits);
  fmt::print("regular lines (5 or 7 characters，the same again。):\n");
  fmt::print("  held-out poems:            {:>4} of {:>4} = {}\n", e.shape_corpus.regular,
             e.shape_corpus.lines, percent(e.shape_corpus.share()));
  fmt::print("  sampled, with positions:    {:>4} of {:>4} = {}\n", e.shape_with.regular, e.shape_with.lines,
             percent(e.shape_with.share()));
  fmt::print("  sampled, without positions: {:>4} of {:>4} = {}\n", e.shape_without.regular,
             e.shape_without.lines, percent(e.shape_without.share()));
  fmt::print("half-lines of 5 or 7 characters (the pieces between punctuation marks and line breaks):\n");
  fmt::print("  held-out poems:            {:>4} of {:>4} = {}\n", e.shape_corpus.half_lines_5_or_7,
             e.shape_corpus.half_lines, percent(e.shape_corpus.half_share()));
  fmt::print("  sampled, with positions:    {:>4} of {:>4} = {}\n", e.shape_with.half_lines_5_or_7,
             e.shape_with.half_lines, percent(e.shape_with.half_share()));
  fmt::print("  sampled, without positions: {:>4} of {:>4} = {}\n", e.shape_without.half_lines_5_or_7,
             e.shape_without.half_lines, percent(e.shape_without.half_share()));
}

void draw(const Example& e, Figures& figures) {
  const TrainingRun& t = e.with_positions;
  std::vector<double> x, train, bigram;
  for (std::size_t k = 0; k < t.report_steps.size(); ++k) {
    x.push_back(static_cast<double>(t.report_steps[k]));
    // the training loss: the mean of the steps since the last report, in bits
    const std::size_t from = k == 0 ? 0 : t.report_steps[k - 1],
                      to = std::max<std::size_t>(from + 1, t.report_steps[k]);
    double sum = 0.0;
    for (std::size_t s = from; s < std::min(to, t.losses.size()); ++s) sum += t.losses[s];
    train.push_back(sum / static_cast<double>(std::min(to, t.losses.size()) - from) / std::log(2.0));
    bigram.push_back(e.bigram_small_bits);
  }
  figures.line_plot("16-loss.svg", x,
                    {{"training (mean since the last point)", train},
                     {"held-out poems", t.held_out_bits},
                     {"bigram add-0.01, held-out", bigram}},
                    {"TinyGPT on 唐诗三百首", "step", "bits per character", false, false});
  Labels labels;
  for (std::size_t i = 0; i < e.map_ids.size(); ++i) labels.push_back(e.vocab.decode({e.map_ids[i]}));
  for (std::size_t l = 0; l < e.maps.size(); ++l) {
    for (std::size_t h = 0; h < e.config.model.n_heads; ++h) {
      const Matrix w = xt::view(e.maps[l], h, xt::all(), xt::all());
      figures.heatmap(fmt::format("16-attention-block{}-head{}.svg", l, h), w,
                      heatmap_spec(fmt::format("Block {} head {} on a held-out line", l, h), labels, labels,
                                   "query character", "key character"));
    }
  }
}

SelfChecks self_checks(const Example& e, const Options& opt) {
  print_section("Self-checks");
  SelfChecks checks;
  const TrainingRun& t = e.with_positions;
  bool same = e.rerun_losses.size() <= t.losses.size();
  for (std::size_t i = 0; same && i < e.rerun_losses.size(); ++i) same = e.rerun_losses[i] == t.losses[i];
  checks.expect("the same seed gives the same losses, to the last bit", same,
                fmt::format("first {} steps trained twice", e.rerun_losses.size()));
  bool finite = std::isfinite(e.model_bits) && std::isfinite(e.without_bits);
  for (double l : t.losses) finite = finite && std::isfinite(l);
  for (double l : e.without_positions.losses) finite = finite && std::isfinite(l);
  checks.expect("every loss is finite", finite);
  checks.expect("the held-out poems' lines are mostly regular (the measure measures)",
                e.shape_corpus.share() > 0.8, percent(e.shape_corpus.share()));
  if (!opt.train_steps_given) {
    checks.expect("the loss fell below uniform guessing", t.held_out_bits.back() < std::log2(e.vocab.size()),
                  fmt::format("{:.4f} < {:.4f}", t.held_out_bits.back(), std::log2(e.vocab.size())));
    if (opt.full) {
      const double best = std::min(e.bigram_bits, e.bigram_small_bits);
      checks.expect("below both bigram baselines on held-out poems by 0.75 bits or more",
                    e.model_bits < best - 0.75, fmt::format("{:.4f} < {:.4f} − 0.75", e.model_bits, best));
      const double with = e.shape_with.share(), without = e.shape_without.share();
      checks.expect("with positions, 10 points more of the sampled lines are regular than without",
                    with > without + 0.1, fmt::format("{} against {}", percent(with), percent(without)));
    }
  }
  return checks;
}

int run_default(const Options& opt) {
  const std::vector<Poem> poems = load_tang300(opt.data);
  const Vocabulary vocab = make_vocabulary(poems);
  const RunConfig r = run_config(opt, vocab.size());
  require_enough_text(poems, r.model.n_ctx, opt.data);
  require_within_limits(cost_of(r, split_poems(poems).held_out.size(), split_poems(poems).held_out_poems),
                        fmt::format("{}--train-steps {}", opt.full ? "--full " : "", r.steps),
                        opt.full ? kFullLimits : kDefaultLimits);
  print_title("Chapter 16 · A tiny GPT");
  const TinyGptConfig& m = r.model;
  print_config("data", fmt::format("{} (Debian's fortunes-zh)", opt.data));
  print_config(
      "model",
      fmt::format("TinyGPT: n_ctx = {}, E = {}, H = {}, F = {}, {} pre-norm block{} (GELU, causal), "
                  "V = {}",
                  m.n_ctx, m.d_model, m.n_heads, m.d_ff, m.n_layers, m.n_layers == 1 ? "" : "s", m.vocab));
  print_config("training", fmt::format("{} steps of {} windows of {}, AdamW lr {:g}, weight decay {:g}",
                                       r.steps, r.batch, m.n_ctx, r.lr, r.weight_decay));
  print_config("seed", std::to_string(opt.common.seed));
  const Example e = compute(opt, poems);
  show_data(e);
  show_training(e);
  show_samples(e, opt);
  show_heads(e);
  show_without_positions(e);
  Figures figures(opt.common);
  draw(e, figures);
  const SelfChecks checks = self_checks(e, opt);
  figures.report();
  return checks.exit_code();
}

// ---- --load: PyTorch's TinyGPT files ---------------------------------------------------------------------

int run_loaded(const Options& opt) {
  if (opt.full || opt.train_steps_given)
    throw usage_error("--full and --train-steps train on the poems; not with --load");
  const std::string& dir = opt.common.load_dir;
  TinyGpt model = load_tiny_gpt(dir, static_cast<std::size_t>(opt.heads));  // not const: named_tensors
  const TinyGptConfig& c = model.config;
  const std::vector<std::size_t> ids = load_token_ids(dir, "idx", c.vocab);
  const std::size_t T = ids.size();
  if (T == 0) throw usage_error("idx.npy is empty");
  if (T > c.n_ctx) {
    throw usage_error(fmt::format(
        "idx.npy has {} tokens, longer than the context n_ctx = {} of pos.weight.npy", T, c.n_ctx));
  }
  const bool with_targets = npy_exists(dir, "targets");
  std::vector<std::size_t> targets;
  if (with_targets) {
    targets = load_token_ids(dir, "targets", c.vocab);
    if (targets.size() != T)
      throw usage_error(fmt::format("targets.npy has {} entries but idx.npy has {}", targets.size(), T));
  }
  std::vector<std::string> outputs = {"logits"};
  if (with_targets) {
    outputs = tensor_names(named_tensors(model), ".grad");
    outputs.insert(outputs.end(), {"logits", "loss"});
  }
  require_no_unread_files(dir, outputs,
                          with_targets ? "a TinyGPT's files with targets.npy" : "a TinyGPT's files");
  TinyGptConfig one = c;
  require_within_limits(
      {8.0 * T * (60.0 * c.d_ff * c.n_layers + 3.0 * c.vocab), training_step_multiply_adds(one, 1, T)},
      "the --load files");
  print_title("Chapter 16 · A tiny GPT — a PyTorch TinyGPT's files");
  print_config("loaded", fmt::format("{}: V = {}, n_ctx = {}, E = {}, H = {}, F = {}, {} block(s), T = {}",
                                     dir, c.vocab, c.n_ctx, c.d_model, c.n_heads, c.d_ff, c.n_layers, T));
  SelfChecks checks;
  if (!with_targets) {
    const TinyGptForward f = tiny_gpt_forward(model, ids, T);
    require_finite_result("the logits", f.logits);
    print_section("logits (T, V)");
    print_matrix("logits", f.logits);
    if (!opt.common.save_dir.empty()) save_npy(opt.common.save_dir, "logits", f.logits);
    print_section("Self-checks");
    checks.expect("the logits are finite", true);
    return checks.exit_code();
  }
  TinyGptLossAndGradients r = tiny_gpt_loss_and_gradients(model, ids, targets, T);
  require_finite_result("the logits", r.forward.logits);
  require_finite_result("the loss", &r.loss, 1);
  for (const NamedTensor& g : named_tensors(r.grads))
    require_finite_result(g.name + "'s gradient", g.data, g.size);
  print_section("logits (T, V) and the mean cross-entropy against targets.npy");
  print_matrix("logits", r.forward.logits);
  fmt::print("loss = {:.12f}\n", r.loss);
  fmt::print("and the gradient of every state_dict entry (--save DIR writes them as <key>.grad.npy)\n");
  if (!opt.common.save_dir.empty()) {
    save_npy(opt.common.save_dir, "logits", r.forward.logits);
    save_scalar(opt.common.save_dir, "loss", r.loss);
    save_named_tensors(opt.common.save_dir, named_tensors(r.grads), ".grad");
  }
  print_section("Self-checks");
  // the gradient of the head sums to 0 over the vocabulary (each row of dL/dlogits does)
  const Matrix& gh = r.grads.head_weight;
  const double scale = std::max(1.0, xt::amax(xt::abs(gh))());
  checks.below("head.weight's gradient sums to 0 over the vocabulary",
               xt::amax(xt::abs(Vector(xt::sum(gh, {0}))))() / scale, 1e-12);
  return checks.exit_code();
}

int run(const Options& opt) {
  if (!opt.common.load_dir.empty()) return run_loaded(opt);
  if (opt.heads_given)
    throw usage_error("--heads describes --load files; the trained model's sizes are fixed");
  require_load_for_save(opt.common);
  return run_default(opt);
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();  // a training loop allocates the same activations every step: keep them
  CLI::App app{"Chapter 16: A tiny GPT", "ch16_tiny_gpt"};
  Options opt;
  app.add_flag("--full", opt.full,
               "Train the larger model (n_ctx 64, E 48, 2 blocks) for 1000 steps (minutes)");
  app.add_option("--train-steps", opt.train_steps, "Training steps (50; 1000 with --full)")
      ->check(whole_number_in(1, 1000000))
      ->default_str("50");
  app.add_option("--temperature", opt.temperature, "Sampling temperature (default 0.8)")
      ->check(positive_up_to(100.0));
  app.add_option("--top-k", opt.top_k, "Top-k of the samples")
      ->check(whole_number_in(1, 100000))
      ->capture_default_str();
  app.add_option("--data", opt.data, "The poems (default Debian's fortunes-zh tang300)");
  app.add_option("--heads", opt.heads, "Heads H of the --load files")
      ->check(whole_number_in(1, 4096))
      ->capture_default_str();
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] {
    opt.heads_given = app.count("--heads") > 0;
    opt.train_steps_given = app.count("--train-steps") > 0;
    return run(opt);
  });
}

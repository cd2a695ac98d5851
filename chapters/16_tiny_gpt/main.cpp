// Chapter 16 — a tiny GPT: a decoder-only transformer trained character by character on 唐诗三百首
// (Debian's fortunes-zh). The program splits the poems into training, validation and test poems (whole
// poems, split_tang300), counts three n-gram baselines from the training poems and chooses their
// smoothing on the validation poems, trains a TinyGPT with AdamW (one seed by default, three with
// --full), reports bits per character on the validation poems while training and on the test poems
// once, with the share spent on characters never seen in training; samples poems (greedy, temperature,
// top-k) from the course's seeded generator, measures what the trained heads attend to, and trains the
// same model without positions to measure whether it learns the lines' shape. With --load DIR:
// PyTorch's TinyGPT files (logits, and with targets.npy the loss and every parameter's gradient).
//
//   build/bin/ch16_tiny_gpt [--full] [--train-steps N] [--temperature T] [--top-k K] [--seed S]
//                           [--lr A] [--weight-decay W] [--warmup N] [--cosine] [--clip C]
//                           [--tie-weights] [--decay-matrices-only] [--seeds N] [--validation-only]
//                           [--svg DIR] [--no-color]
//   build/bin/ch16_tiny_gpt --load DIR [--heads H] [--save DIR]
//
// The program's shape: Options (the flags); compute() fills named structs; show_* print them, draw()
// writes the figures (nothing without --svg), self_checks() checks every claim; run() calls them in
// that order. run_loaded() does the same for --load.
#include "16_tiny_gpt/given.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "results.hpp"
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
  // the training choices, each compared on the validation poems; unset: the run's own
  double lr = 0, weight_decay = -1, clip = -1;
  int warmup = -1, seeds = 0;
  bool cosine = false, no_cosine = false, tie = false, untie = false, decay_all = false,
       decay_matrices_only = false;
  bool validation_only = false;  // train only the model with positions; no test numbers
};

// The two runs: the default trains a small model for a few seconds, --full a larger one for minutes.
struct RunConfig {
  TinyGptConfig model;
  std::size_t batch = 16, report_every = 0, seeds = 1;
  TrainingOptions train;
  std::size_t draws = 4;  // samples per validation poem, per model, to count the lines' shape
};

RunConfig run_config(const Options& opt, std::size_t vocab) {
  //             vocab, n_ctx, d_model, n_heads, d_ff, n_layers
  const TinyGptConfig full{vocab, 64, 48, 4, 192, 2}, small{vocab, 32, 32, 4, 64, 1};
  RunConfig r;
  r.model = opt.full ? full : small;
  if (opt.full) {
    // the training choices were compared on the validation poems, three seeds each, by the runs
    // docs/16-tiny_gpt.md lists (--validation-only and the flags): weight decay 1 against 0.1, decay on
    // every tensor against the matrices only, clipping or not, tied head, warm-up and cosine decay; the
    // sizes, lr and steps are the first run's, not searched
    r.seeds = 3;
    r.train.steps = 1000;
    r.train.lr = 1e-3;
    r.train.weight_decay = 1.0;
    r.train.tie = true;    // --tie-weights
    r.train.warmup = 100;  // --warmup 100 --cosine
    r.train.cosine = true;
  } else {
    r.train.steps = 50;
    r.train.lr = 3e-3;
    r.train.weight_decay = 0.01;
  }
  if (opt.train_steps_given) r.train.steps = static_cast<std::size_t>(opt.train_steps);
  if (opt.lr > 0) r.train.lr = opt.lr;
  if (opt.weight_decay >= 0) r.train.weight_decay = opt.weight_decay;
  if (opt.warmup >= 0) r.train.warmup = static_cast<std::size_t>(opt.warmup);
  if (opt.cosine) r.train.cosine = true;
  if (opt.no_cosine) r.train.cosine = false;
  if (opt.clip >= 0) r.train.clip = opt.clip;
  if (opt.tie) r.train.tie = true;
  if (opt.untie) r.train.tie = false;
  if (opt.decay_all) r.train.decay_all = true;
  if (opt.decay_matrices_only) r.train.decay_all = false;
  if (opt.seeds > 0) r.seeds = static_cast<std::size_t>(opt.seeds);
  r.report_every = std::max<std::size_t>(1, r.train.steps / 10);
  return r;
}

// A run's cost in cli.hpp's units: per seed one or two models trained, the validation poems evaluated
// at 11 reports, the test poems once; the samples generated one token at a time (the blocks over the
// whole context, the head on the last position), the multiply-adds counted from the sizes times
// kOverhead. Measured here (user time, a busy 2-core machine), 50 default steps with both models, the
// evaluations and the samples took 8.0 s, where cli.hpp's 2e9 plain multiply-adds take about 3.2 s:
// most of the work runs in OpenBLAS's products, faster than plain multiply-adds.
constexpr double kOverhead = 0.25;
Cost cost_of(const RunConfig& r, const PoemSplit& split, bool ablation) {
  const double validation_chars = static_cast<double>(split.validation.size());
  const double step = training_step_multiply_adds(r.model, r.batch, r.model.n_ctx);
  const double per_token_forward = step / 3.0 / static_cast<double>(r.batch * r.model.n_ctx);
  const double evals = (11.0 * validation_chars + static_cast<double>(split.test.size())) * per_token_forward;
  const double E = r.model.d_model, V = static_cast<double>(r.model.vocab);
  const double per_token_body = per_token_forward - V * E;  // the blocks; generation runs the head once
  const double sampled = static_cast<double>(split.validation_poems * r.draws + 3) * (r.model.n_ctx - 1.0);
  const double samples = 2.0 * sampled * (r.model.n_ctx * per_token_body + V * E);
  const double models = static_cast<double>(r.seeds) * (ablation ? 2.0 : 1.0);
  const double work = models * (static_cast<double>(r.train.steps) * step + evals) + samples;
  return {training_memory_bytes(r.model, 64.0 * r.model.n_ctx), kOverhead * work};
}
// The default run trains on the spot (about 6 s here); up to about 60 --train-steps fit. --full takes
// minutes, like a benchmark.
constexpr Limits kDefaultLimits{memory_limit_bytes, 3 * work_limit};
constexpr Limits kFullLimits{memory_limit_bytes, 1200 * work_limit};

// ---- training ---------------------------------------------------------------------------------------

struct TrainingRun {
  std::vector<double> losses;             // training loss before each step (nats)
  std::vector<std::size_t> report_steps;  // where the validation loss was measured
  std::vector<double> validation_bits;    // bits per character on the validation poems there
  TinyGpt model;
  std::size_t parameters = 0;
  TextLoss validation, test;  // the trained model's, per character (test: only when reported)
};

// The texts as ids, and where the model reads them: training windows start at a line start (drawn
// from train_starts), the validation and test poems are read in whole-line windows
// (evaluation_windows).
struct Texts {
  std::vector<std::size_t> train_ids, validation_ids, test_ids;
  std::vector<std::size_t> train_starts;
  std::vector<Window> validation_windows, test_windows;
};

constexpr double kLn2 = 0.69314718055994530942;

double validation_bits(const TinyGpt& model, const Texts& x) {
  return mean_loss(model, x.validation_ids, x.validation_windows).loss / kLn2;
}

// Trains one model from seed: the validation loss every report_every steps when evaluate, and the
// trained model's per-character losses on the validation poems (and the test poems when test).
TrainingRun train(const RunConfig& r, const TinyGptConfig& mc, std::uint64_t seed, const Texts& x,
                  std::size_t steps, bool evaluate, bool test) {
  Rng rng(seed);
  TrainingRun t;
  t.model = random_tiny_gpt(rng, mc);
  if (r.train.tie) tie_weights(t.model);
  t.parameters = parameter_count(t.model) - (r.train.tie ? mc.vocab * mc.d_model : 0);
  TrainingOptions options = r.train;
  options.steps = steps;
  Trainer trainer(options);
  // report_every steps at a time; the validation loss before each stretch when evaluate
  for (std::size_t step = 0; step < steps; step += r.report_every) {
    if (evaluate) {
      t.report_steps.push_back(step);
      t.validation_bits.push_back(validation_bits(t.model, x));
    }
    const std::size_t n = std::min(r.report_every, steps - step);
    for (double loss : train_steps(t.model, trainer, rng, x.train_ids, x.train_starts, r.batch, mc.n_ctx, n))
      t.losses.push_back(loss);
  }
  if (!evaluate) return t;
  t.validation = mean_loss(t.model, x.validation_ids, x.validation_windows);
  t.report_steps.push_back(steps);
  t.validation_bits.push_back(t.validation.loss / kLn2);
  if (test) t.test = mean_loss(t.model, x.test_ids, x.test_windows);
  return t;
}

// ---- the whole run ------------------------------------------------------------------------------------

struct Samples {
  std::string prompt;
  std::string greedy, temperature, top_k;
};

// The seeds' results for one model: bits per character on validation and test, per seed.
struct SeedResults {
  std::vector<double> validation, test, test_unseen;  // test_unseen: bits per character spent on unseen
  std::vector<std::size_t> seeds;
};

struct Example {
  RunConfig config;
  std::size_t poems = 0;
  PoemSplit split;
  Vocabulary vocab;
  Texts text;
  std::size_t first_validation = 0;                               // the first validation poem's index
  std::string validation_poem;                                    // its text
  std::vector<std::size_t> validation_positions, test_positions;  // what every model predicts
  // the characters never seen in training: how many of the vocabulary, and which test positions
  std::size_t unseen_chars = 0;
  std::vector<bool> test_unseen;  // per test position
  std::size_t test_unseen_count = 0;
  Tuned unigram, add_alpha, interpolated;
  TrainingRun with_positions, without_positions;  // the first seed's
  SeedResults with_seeds, without_seeds;
  bool ablation = true, report_test = true;
  std::vector<double> rerun_losses;
  Samples samples;
  // the heads on the first validation poem's first line
  std::vector<std::size_t> map_ids;
  std::vector<Tensor3> maps;  // [block] (H, T, T)
  HeadStatistics heads;
  LineShape shape_corpus, shape_with, shape_without;
};

std::u32string to_u32(const Vocabulary& v, const std::vector<std::size_t>& ids) {
  std::u32string s;
  for (std::size_t id : ids) s.push_back(v.chars[id]);
  return s;
}

// A --data file too small to train on, or without a regular validation line to measure the heads on.
void require_enough_text(const std::vector<Poem>& poems, std::size_t n_ctx, const std::string& data) {
  const PoemSplit split = split_tang300(poems);
  require_text_for_windows(data, split.train, {split.validation.size(), split.test.size()}, n_ctx);
  bool regular = false;
  for (std::size_t p = 0; p < poems.size(); ++p)
    for (const std::u32string& line : poems[p].lines)
      regular =
          regular || (poem_part(p) == PoemPart::validation && regular_line(line) && line.size() <= n_ctx);
  if (!regular) throw usage_error(fmt::format("{}: no validation poem has a regular line", data));
}

// Trains every seed's model, with positions and (with the ablation) without, on two threads; keeps
// each seed's numbers and the first seed's two runs whole.
void train_seeds(Example& e, std::uint64_t seed) {
  const std::size_t n = e.config.seeds, models = e.ablation ? 2 : 1;
  TinyGptConfig no_pos = e.config.model;
  no_pos.positions = false;
  std::vector<TrainingRun> runs(n * models);
  run_on_two_threads(n * models, [&](std::size_t j) {
    const TinyGptConfig& mc = j < n ? e.config.model : no_pos;
    runs[j] = train(e.config, mc, seed + 1000 * (j % n), e.text, e.config.train.steps, true, e.report_test);
  });
  for (std::size_t j = 0; j < runs.size(); ++j) {
    SeedResults& r = j < n ? e.with_seeds : e.without_seeds;
    const TrainingRun& t = runs[j];
    r.seeds.push_back(seed + 1000 * (j % n));
    r.validation.push_back(t.validation.loss / kLn2);
    if (e.report_test) {
      r.test.push_back(t.test.loss / kLn2);
      r.test_unseen.push_back(share_on(in_bits(t.test.position_losses), e.test_unseen));
    }
  }
  e.with_positions = std::move(runs[0]);
  if (e.ablation) e.without_positions = std::move(runs[n]);
}

Example compute(const Options& opt, const std::vector<Poem>& poems) {
  Example e;
  e.poems = poems.size();
  e.split = split_tang300(poems);
  e.vocab = make_vocabulary(poems);
  e.config = run_config(opt, e.vocab.size());
  e.ablation = !opt.validation_only;
  e.report_test = !opt.validation_only;
  e.text.train_ids = e.vocab.encode(e.split.train);
  e.text.validation_ids = e.vocab.encode(e.split.validation);
  e.text.test_ids = e.vocab.encode(e.split.test);
  const std::size_t newline = e.vocab.ids.at(U'\n');
  const TinyGptConfig& mc = e.config.model;
  e.text.train_starts = line_starts(e.text.train_ids, newline);
  e.text.validation_windows = evaluation_windows(e.text.validation_ids, newline, mc.n_ctx);
  e.text.test_windows = evaluation_windows(e.text.test_ids, newline, mc.n_ctx);
  e.validation_positions = predicted_positions(e.text.validation_windows);
  e.test_positions = predicted_positions(e.text.test_windows);
  while (poem_part(e.first_validation) != PoemPart::validation) ++e.first_validation;
  e.validation_poem = encode_utf8(poem_text(poems[e.first_validation]));
  // 1. the baselines, counted from the training text, their α and λ chosen on the validation poems
  const CharCounts counts = count_chars(e.text.train_ids, mc.vocab);
  for (double c : counts.counts) e.unseen_chars += c == 0.0 ? 1 : 0;
  e.test_unseen = unseen_in_training(counts, e.text.test_ids, e.test_positions);
  for (bool u : e.test_unseen) e.test_unseen_count += u ? 1 : 0;
  NgramBaselines b = tune_baselines(counts, e.text.validation_ids, e.validation_positions, e.text.test_ids,
                                    e.test_positions);
  e.unigram = std::move(b.unigram);
  e.add_alpha = std::move(b.add_alpha);
  e.interpolated = std::move(b.interpolated);
  // 2. train with and without positions, each seed from the same start and on the same batches
  train_seeds(e, opt.common.seed);
  // 3. the first steps again: the same bits
  e.rerun_losses = train(e.config, mc, opt.common.seed, e.text,
                         std::min<std::size_t>(3, e.config.train.steps), false, false)
                       .losses;
  // 4. samples from the first character of the first validation poem
  const Poem& first_poem = poems[e.first_validation];
  const std::vector<std::size_t> prompt = e.vocab.encode(first_poem.lines[0].substr(0, 1));
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
  // 5. the heads: on the first validation poem's first line, and measured on every validation regular line
  const std::u32string first_line = first_poem.lines[0];
  e.map_ids = e.vocab.encode(first_line.substr(0, std::min(first_line.size(), mc.n_ctx)));
  const TinyGptForward f = tiny_gpt_forward(e.with_positions.model, e.map_ids, e.map_ids.size());
  for (const EncoderLayerForward& b : f.blocks)
    e.maps.push_back(xt::view(b.saved.attention.weights, 0, xt::all(), xt::all(), xt::all()));
  e.heads = head_statistics(e.with_positions.model, e.vocab, poems);
  // 6. the lines' shape: the validation poems, and text generated by each model (top-k sampling), one
  //    window from each validation poem's first character, draws times
  e.shape_corpus = line_shape(e.split.validation);
  if (!e.ablation) return e;
  Rng with_rng(opt.common.seed + 3), without_rng(opt.common.seed + 3);
  for (std::size_t p = 0; p < poems.size(); ++p) {
    if (poem_part(p) != PoemPart::validation) continue;
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

void show_data(const Example& e) {
  print_section("1. The data: 唐诗三百首, character by character, split by whole poems");
  const PoemSplit& s = e.split;
  fmt::print(
      "{} poems: {} for training ({} characters), {} for validation (poem i with i % 10 = 4: {} "
      "characters), {} for test (i % 10 = 9: {} characters)\n",
      e.poems, s.train_poems, e.text.train_ids.size(), s.validation_poems, e.text.validation_ids.size(),
      s.test_poems, e.text.test_ids.size());
  fmt::print(
      "vocabulary: {} characters (with '\\n'; sorted by code point); {} of them never occur in the "
      "training poems\n",
      e.vocab.size(), e.unseen_chars);
  fmt::print("the first validation poem, as the model reads it:\n{}", e.validation_poem);
}

void show_baselines(const Example& e) {
  print_section("2. Baselines, counted from the training poems; α and λ chosen on the validation poems");
  fmt::print("bits per character on the {} validation characters every model predicts:\n",
             e.validation_positions.size());
  fmt::print("  {:>6}  {:>16}  {:>15}\n", "α", "unigram add-α", "bigram add-α");
  for (std::size_t k = 0; k < e.unigram.values.size(); ++k)
    fmt::print("  {:>6g}  {:>16.4f}  {:>15.4f}\n", e.unigram.values[k], e.unigram.validation_bits[k],
               e.add_alpha.validation_bits[k]);
  fmt::print("  {:>6}  {}\n", "λ",
             fmt::format("interpolated: λ·bigram + (1−λ)·unigram add-{:g}", e.unigram.best.alpha));
  for (std::size_t k = 0; k < e.interpolated.values.size(); ++k)
    fmt::print("  {:>6g}  {:>16.4f}\n", e.interpolated.values[k], e.interpolated.validation_bits[k]);
  fmt::print("chosen: unigram α = {:g}, bigram α = {:g}, interpolated λ = {:g}\n", e.unigram.best.alpha,
             e.add_alpha.best.alpha, e.interpolated.best.lambda);
  fmt::print("uniform guessing: log2 {} = {:.4f} bits per character\n", e.vocab.size(),
             std::log2(static_cast<double>(e.vocab.size())));
}

void show_training(const Example& e) {
  const TrainingRun& t = e.with_positions;
  print_section(
      fmt::format("3. Training (seed {}): bits per character, the training batches since the last "
                  "report beside the validation poems",
                  e.with_seeds.seeds[0]));
  const TrainingOptions& o = e.config.train;
  fmt::print("{} steps, lr {:g}{}{}, weight decay {:g}{}, clipping {}, {}; {} parameters\n", o.steps, o.lr,
             o.warmup > 0 ? fmt::format(", warm-up {} steps", o.warmup) : std::string(),
             o.cosine ? ", cosine decay to lr/10" : "", o.weight_decay,
             o.decay_all ? " on every tensor" : " on the blocks' and the head's matrices only",
             o.clip > 0 ? fmt::format("at norm {:g}", o.clip) : std::string("none"),
             o.tie ? "head tied to the embedding" : "head untied", t.parameters);
  fmt::print("{:>6}  {:>12}  {:>15}\n", "step", "train bits", "validation bits");
  for (std::size_t k = 0; k < t.report_steps.size(); ++k) {
    // the training loss: the mean of the steps since the last report
    const std::size_t from = k == 0 ? 0 : t.report_steps[k - 1], to = t.report_steps[k];
    std::vector<double> batch;
    for (std::size_t s = from; s < to && s < t.losses.size(); ++s) batch.push_back(t.losses[s] / kLn2);
    const std::string train = batch.empty() ? std::string() : fmt::format("{:.4f}", mean_of(batch));
    fmt::print("{:>6}  {:>12}  {:>15.4f}\n", t.report_steps[k], train, t.validation_bits[k]);
  }
}

void show_seeds(const Example& e) {
  print_section(
      fmt::format("4. {} seed{}: bits per character", e.config.seeds, e.config.seeds == 1 ? "" : "s"));
  auto row = [&](const char* name, const SeedResults& r) {
    for (std::size_t k = 0; k < r.seeds.size(); ++k) {
      fmt::print("  {:<22} seed {:>5}: validation {:.4f}", name, r.seeds[k], r.validation[k]);
      if (e.report_test) fmt::print("   test {:.4f}", r.test[k]);
      fmt::print("\n");
    }
  };
  row("TinyGPT", e.with_seeds);
  if (e.ablation) row("without positions", e.without_seeds);
  fmt::print("validation, mean ± standard deviation over the seeds:\n");
  fmt::print("  {:<34}  {}\n", "TinyGPT", mean_sd(e.with_seeds.validation));
  if (e.ablation)
    fmt::print("  {:<34}  {}\n", "TinyGPT without positions", mean_sd(e.without_seeds.validation));
  fmt::print("  {:<34}  {:.4f}\n", fmt::format("interpolated bigram, λ = {:g}", e.interpolated.best.lambda),
             mean_of(e.interpolated.validation));
}

void show_test(const Example& e) {
  print_section("5. The test poems, scored once: bits per character");
  const std::size_t n = e.test_positions.size();
  fmt::print("{} predicted characters; {} of them ({}) never occur in the training poems\n", n,
             e.test_unseen_count, percent(static_cast<double>(e.test_unseen_count) / static_cast<double>(n)));
  fmt::print("{:<34}  {:>16}  {:>22}\n", "", "bits per char", "of them on unseen chars");
  auto ngram = [&](const std::string& name, const Tuned& t) {
    fmt::print("{:<34}  {:>16.4f}  {:>22.4f}\n", name, mean_of(t.test), share_on(t.test, e.test_unseen));
  };
  ngram(fmt::format("unigram, add-{:g}", e.unigram.best.alpha), e.unigram);
  ngram(fmt::format("bigram, add-{:g}", e.add_alpha.best.alpha), e.add_alpha);
  ngram(fmt::format("interpolated bigram, λ = {:g}", e.interpolated.best.lambda), e.interpolated);
  auto model = [&](const std::string& name, const SeedResults& r) {
    fmt::print("{:<34}  {:>16}  {:>22}\n", name, mean_sd(r.test), mean_sd(r.test_unseen));
  };
  model(fmt::format("TinyGPT, {} step{}", e.config.train.steps, e.config.train.steps == 1 ? "" : "s"),
        e.with_seeds);
  model("TinyGPT without positions", e.without_seeds);
  fmt::print("TinyGPT − interpolated bigram: {:+.4f} bits per character\n",
             spread(e.with_seeds.test).mean - mean_of(e.interpolated.test));
}

// a sample on one line: each '\n' shown as " / "
std::string one_line(const std::string& text) {
  std::string out;
  for (char ch : text) out += ch == '\n' ? std::string(" / ") : std::string(1, ch);
  return out;
}

void show_samples(const Example& e, const Options& opt) {
  print_section(fmt::format("6. Samples: {} characters after 「{}」, one window (a line break shown as /)",
                            e.config.model.n_ctx - 1, e.samples.prompt));
  fmt::print("greedy:\n  {}\n", one_line(e.samples.greedy));
  fmt::print("temperature {:g}:\n  {}\n", opt.temperature, one_line(e.samples.temperature));
  fmt::print("temperature {:g}, top-k {}:\n  {}\n", opt.temperature, opt.top_k, one_line(e.samples.top_k));
}

void show_heads(const Example& e) {
  print_section("7. What the heads learned");
  const std::size_t n = e.config.model.n_layers, H = e.config.model.n_heads;
  fmt::print(
      "mean weight from the second half-line of a validation poem's regular line ({} queries) on:\n"
      "the same place in the first half-line, the character just before, the line's first character\n",
      e.heads.queries);
  for (std::size_t l = 0; l < n; ++l)
    for (std::size_t h = 0; h < H; ++h)
      fmt::print("  block {} head {}:  {:.3f}  {:.3f}  {:.3f}\n", l, h, e.heads.parallel[l][h],
                 e.heads.previous[l][h], e.heads.line_start[l][h]);
  fmt::print("(a head spreading its weight evenly over the past would give each {:.3f})\n", e.heads.uniform);
}

void show_without_positions(const Example& e) {
  print_section("8. The same model without positions: the lines' shape");
  fmt::print("regular lines (5 or 7 characters，the same again。):\n");
  fmt::print("  validation poems:           {:>4} of {:>4} = {}\n", e.shape_corpus.regular,
             e.shape_corpus.lines, percent(e.shape_corpus.share()));
  fmt::print("  sampled, with positions:    {:>4} of {:>4} = {}\n", e.shape_with.regular, e.shape_with.lines,
             percent(e.shape_with.share()));
  fmt::print("  sampled, without positions: {:>4} of {:>4} = {}\n", e.shape_without.regular,
             e.shape_without.lines, percent(e.shape_without.share()));
  fmt::print("half-lines of 5 or 7 characters (the pieces between punctuation marks and line breaks):\n");
  fmt::print("  validation poems:           {:>4} of {:>4} = {}\n", e.shape_corpus.half_lines_5_or_7,
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
    train.push_back(sum / static_cast<double>(std::min(to, t.losses.size()) - from) / kLn2);
    bigram.push_back(mean_of(e.interpolated.validation));
  }
  figures.line_plot("16-loss.svg", x,
                    {{"training (mean since the last point)", train},
                     {"validation poems", t.validation_bits},
                     {"interpolated bigram, validation", bigram}},
                    {"TinyGPT on 唐诗三百首", "step", "bits per character", false, false});
  Labels labels;
  for (std::size_t i = 0; i < e.map_ids.size(); ++i) labels.push_back(e.vocab.decode({e.map_ids[i]}));
  for (std::size_t l = 0; l < e.maps.size(); ++l) {
    for (std::size_t h = 0; h < e.config.model.n_heads; ++h) {
      const Matrix w = xt::view(e.maps[l], h, xt::all(), xt::all());
      figures.heatmap(fmt::format("16-attention-block{}-head{}.svg", l, h), w,
                      heatmap_spec(fmt::format("Block {} head {} on a validation line", l, h), labels, labels,
                                   "query character", "key character"));
    }
  }
}

SelfChecks self_checks(const Example& e, const Options& opt) {
  print_section("Self-checks");
  SelfChecks checks;
  const TrainingRun& t = e.with_positions;
  check_training_run(checks, e.rerun_losses, t.losses, {e.with_seeds.validation, e.without_seeds.validation});
  // the parts: whole poems, none in two parts, every poem in one
  checks.expect("the split is by whole poems: the parts' texts add up to every poem's",
                e.text.train_ids.size() + e.text.validation_ids.size() + e.text.test_ids.size() ==
                        e.split.train.size() + e.split.validation.size() + e.split.test.size() &&
                    e.split.train_poems + e.split.validation_poems + e.split.test_poems == e.poems);
  checks.expect("the validation poems' lines are mostly regular (the measure measures)",
                e.shape_corpus.share() > 0.8, percent(e.shape_corpus.share()));
  if (!opt.train_steps_given) {
    const double bits = spread(e.with_seeds.validation).mean, uniform = std::log2(e.vocab.size());
    checks.expect("the validation loss fell below uniform guessing", bits < uniform,
                  fmt::format("{:.4f} < {:.4f}", bits, uniform));
    if (opt.full && e.ablation) {
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
  const PoemSplit split = split_tang300(poems);
  require_within_limits(cost_of(r, split, !opt.validation_only),
                        fmt::format("{}--train-steps {}", opt.full ? "--full " : "", r.train.steps),
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
                                       r.train.steps, r.batch, m.n_ctx, r.train.lr, r.train.weight_decay));
  print_config("seed", std::to_string(opt.common.seed));
  const Example e = compute(opt, poems);
  show_data(e);
  show_baselines(e);
  show_training(e);
  show_seeds(e);
  if (e.report_test) show_test(e);
  show_samples(e, opt);
  show_heads(e);
  if (e.ablation) show_without_positions(e);
  Figures figures(opt.common);
  draw(e, figures);
  const SelfChecks checks = self_checks(e, opt);
  figures.report();
  if (!opt.full)
    fmt::print(
        "\nThis run is {} steps of a small model, one seed: a first look, not a result. The result is "
        "`ch16_tiny_gpt --full` (minutes): the larger model, three seeds.\n",
        r.train.steps);
  return checks.exit_code();
}

// ---- --load: PyTorch's TinyGPT files ---------------------------------------------------------------------

// A PyTorch TinyGPT's files: the model, idx.npy (T,) and, if given, targets.npy (T,).
struct GptFiles : GptPrompt {        // the model and idx.npy
  std::vector<std::size_t> targets;  // (T,), or empty without targets.npy
};

GptFiles load_gpt_files(const Options& opt) {
  if (opt.full || opt.train_steps_given || opt.validation_only)
    throw usage_error("--full, --train-steps and --validation-only train on the poems; not with --load");
  const std::string& dir = opt.common.load_dir;
  GptFiles f{load_gpt_prompt(dir, static_cast<std::size_t>(opt.heads)), {}};
  const TinyGptConfig& c = f.model.config;
  const std::size_t T = f.ids.size();
  const bool with_targets = npy_exists(dir, "targets");
  if (with_targets) {
    f.targets = load_token_ids(dir, "targets", c.vocab);
    if (f.targets.size() != T)
      throw usage_error(fmt::format("targets.npy has {} entries but idx.npy has {}", f.targets.size(), T));
  }
  std::vector<std::string> outputs = {"logits"};
  if (with_targets) {
    outputs = tensor_names(named_tensors(f.model), ".grad");
    outputs.insert(outputs.end(), {"logits", "loss"});
  }
  require_no_unread_files(dir, outputs,
                          with_targets ? "a TinyGPT's files with targets.npy" : "a TinyGPT's files");
  TinyGptConfig one = c;
  require_within_limits(
      {8.0 * T * (60.0 * c.d_ff * c.n_layers + 3.0 * c.vocab), training_step_multiply_adds(one, 1, T)},
      "the --load files");
  return f;
}

// Without targets.npy the logits (T, V); with it also the loss and the gradient of every state_dict
// entry, as PyTorch's loss.backward() leaves them.
int run_loaded(const Options& opt) {
  GptFiles f = load_gpt_files(opt);
  const TinyGptConfig& c = f.model.config;
  const std::size_t T = f.ids.size();
  print_title("Chapter 16 · A tiny GPT — a PyTorch TinyGPT's files");
  print_config("loaded", fmt::format("{}: V = {}, n_ctx = {}, E = {}, H = {}, F = {}, {} block(s), T = {}",
                                     opt.common.load_dir, c.vocab, c.n_ctx, c.d_model, c.n_heads, c.d_ff,
                                     c.n_layers, T));
  SelfChecks checks;
  if (f.targets.empty()) {
    const TinyGptForward forward = tiny_gpt_forward(f.model, f.ids, T);
    print_section("logits (T, V)");
    report_results({shown_matrix("logits", forward.logits, "logits")}, opt.common.save_dir);
    print_section("Self-checks");
    checks.expect("the logits are finite", true);
    return checks.exit_code();
  }
  TinyGptLossAndGradients r = tiny_gpt_loss_and_gradients(f.model, f.ids, f.targets, T);
  print_section("logits (T, V) and the mean cross-entropy against targets.npy");
  std::vector<NamedResult> results = {
      shown_matrix("logits", r.forward.logits, "logits"), scalar_result("loss", r.loss, [&r] {
        fmt::print("loss = {:.12f}\n", r.loss);
        fmt::print("and the gradient of every state_dict entry (--save DIR writes them as <key>.grad.npy)\n");
      })};
  append_named(results, named_tensors(r.grads), ".grad");
  report_results(results, opt.common.save_dir);
  print_section("Self-checks");
  // the gradient of the head sums to 0 over the vocabulary (each row of dL/dlogits does)
  const Matrix& gh = r.grads.head_weight;
  const double scale = std::max(1.0, xt::amax(xt::abs(gh))());
  checks.below("head.weight's gradient sums to 0 over the vocabulary",
               xt::amax(xt::abs(Vector(xt::sum(gh, {0}))))() / scale, 1e-12);
  return checks.exit_code();
}

int run(const Options& opt) {
  return run_training_program(opt, opt.heads_given,
                              "--heads describes --load files; the trained model's sizes are fixed",
                              run_loaded, run_default);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 16: A tiny GPT", "ch16_tiny_gpt"};
  Options opt;
  app.add_flag("--full", opt.full,
               "Train the larger model (n_ctx 64, E 48, 2 blocks), three seeds, with and without positions "
               "(minutes)");
  add_size_option(app, "--train-steps", opt.train_steps, "Training steps (50; 1000 with --full)", 1000000)
      ->default_str("50");
  add_sampling_options(app, opt.temperature, opt.top_k);
  // the training choices, each compared on the validation poems (with --validation-only)
  app.add_option("--lr", opt.lr, "AdamW's learning rate (0.003; 0.001 with --full)")
      ->check(positive_up_to(1.0));
  app.add_option("--weight-decay", opt.weight_decay, "AdamW's weight decay (0.01; 1 with --full)")
      ->check(finite_in(0.0, 100.0));
  app.add_option("--warmup", opt.warmup, "Steps of linear learning-rate warm-up (0)")
      ->check(whole_number_in(0, 1000000));
  app.add_flag("--cosine", opt.cosine, "Cosine learning-rate decay to lr/10 after the warm-up");
  app.add_flag("--no-cosine", opt.no_cosine, "A constant learning rate after the warm-up");
  app.add_option("--clip", opt.clip, "Clip the gradients' global norm at this value (0: no clipping)")
      ->check(finite_in(0.0, 1e6));
  app.add_flag("--tie-weights", opt.tie, "head.weight = tok.weight (Press & Wolf 2017)");
  app.add_flag("--untie-weights", opt.untie, "A head of its own");
  app.add_flag("--decay-all", opt.decay_all, "Weight decay on every tensor");
  app.add_flag("--decay-matrices-only", opt.decay_matrices_only,
               "No weight decay on biases, norms and the embeddings (minGPT)");
  app.add_option("--seeds", opt.seeds, "Seeds to train (1; 3 with --full)")->check(whole_number_in(1, 10));
  app.add_flag("--validation-only", opt.validation_only,
               "Train only the model with positions and print no test numbers (to compare settings)");
  app.add_option("--data", opt.data, "The poems (default Debian's fortunes-zh tang300)");
  add_size_option(app, "--heads", opt.heads, "Heads H of the --load files", 4096);
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] {
    opt.heads_given = app.count("--heads") > 0;
    opt.train_steps_given = app.count("--train-steps") > 0;
    if ((opt.cosine && opt.no_cosine) || (opt.tie && opt.untie) || (opt.decay_all && opt.decay_matrices_only))
      throw usage_error(
          "--cosine/--no-cosine, --tie-weights/--untie-weights and --decay-all/"
          "--decay-matrices-only each take one of the two");
    return run(opt);
  });
}

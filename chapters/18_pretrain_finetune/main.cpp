// Chapter 18 — Pretrain, then fine-tune. Chapter 16's TinyGPT, the same code, first reads the rest of
// Debian's fortunes-zh (`chinese` and `song100`, cleaned, every entry that shares a line or a run of 8
// or more characters with one of chapter 16's validation or test poems removed), then is adapted to the
// training poems of 唐诗三百首 three ways from the same pretrained weights and on the same batches: from
// scratch (the control, chapter 16's recipe), full fine-tuning, and LoRA (rank-r adapters on each
// block's attention in- and out-projection, the base frozen), the LoRA model merged back into one
// TinyGPT; full fine-tuning's and LoRA's learning rates chosen from a few on the validation poems.
// Measured on the test poems, nothing chosen on them: bits per character beside the n-gram
// baselines counted from exactly the text each model saw (their smoothing chosen on the validation
// poems), the share spent on characters never seen; forgetting (bits on held-out fortunes before and
// after adapting); samples and their well-formed lines; what the adapted heads attend to; what LoRA
// saves. The default run is a tiny configuration on a slice of the corpus (seconds); --full is the
// experiment, three seeds. With --load DIR: PyTorch's TinyGPT with LoRA adapters on every block's
// attention (logits, loss, and the adapters' gradients).
//
//   build/bin/ch18_pretrain_finetune [--full] [--pretrain-steps N] [--finetune-steps N] [--seeds N]
//                                    [--rank R] [--lora-alpha A] [--fortunes DIR] [--seed S]
//                                    [--svg DIR] [--no-color]
//   build/bin/ch18_pretrain_finetune --load DIR [--heads H] [--lora-alpha A] [--save DIR]
//
// The program's shape: Options (the flags); compute() fills one named struct with everything the
// program shows; show_* print it, draw() writes the figures (nothing without --svg), self_checks()
// checks it; run_default() calls them in that order. run_loaded() does the same for --load.
#include "18_pretrain_finetune/given.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "linalg.hpp"
#include "print.hpp"
#include "results.hpp"
#include "rng.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

using namespace course;

namespace {

// The LoRA example's layer: a square (E, E) weight, as the attention's out-projection.
constexpr int kExampleWidth = 8;
constexpr int kExampleTokens = 4;
constexpr double kLn2 = 0.69314718055994530942;

struct Options {
  CommonOptions common;
  std::string fortunes = kFortunesDir;  // --fortunes DIR: chinese, song100 and tang300 (tests: a missing one)
  int rank = 4;                         // r of the adapters (and of the LoRA example)
  double alpha = 0;                     // α (also of the --load files' adapters); 0: r
  bool full = false;
  int pretrain_steps = 0, finetune_steps = 0, seeds = 0;  // 0: the run's own
  bool rank_given = false;
  int heads = 4;  // --heads H (--load files only)
  bool heads_given = false;
};

// ---- the two runs ---------------------------------------------------------------------------------------

// The default run is a tiny configuration on a slice of the corpus, for seconds; --full the experiment.
struct RunConfig {
  TinyGptConfig model;
  std::size_t batch = 16, seeds = 1, draws = 1, reports = 4;
  std::size_t rare = 5;  // a fortune's character seen fewer times in the corpus and in no poem becomes ⟨rare⟩
  std::size_t slice = 1;            // pretrain on the training entries i with i % slice == 0
  std::size_t held_out_every = 50;  // entry i is a held-out fortune when i % held_out_every == 9
  std::size_t rank = 4;
  double alpha = 4;
  TrainingOptions pretrain, scratch, full, lora;  // steps: the adaptations share finetune steps
  // (b) and (c)'s learning rates tried on the first seed: the one whose model has the lowest
  // validation bits after the last step is chosen for every seed (choose_learning_rate)
  std::vector<double> full_lrs, lora_lrs;
};

// lr, weight decay (on every tensor), warm-up steps, cosine decay to lr/10, head tied to the embedding
TrainingOptions recipe(double lr, double weight_decay, std::size_t warmup, bool cosine, bool tie) {
  TrainingOptions o;
  o.lr = lr;
  o.weight_decay = weight_decay;
  o.warmup = warmup;
  o.cosine = cosine;
  o.tie = tie;
  return o;
}

RunConfig run_config(const Options& opt, std::size_t vocab) {
  //             vocab, n_ctx, d_model, n_heads, d_ff, n_layers
  const TinyGptConfig full{vocab, 64, 48, 4, 192, 2}, small{vocab, 32, 32, 4, 64, 1};
  RunConfig r;
  r.model = opt.full ? full : small;
  r.rank = static_cast<std::size_t>(opt.rank);
  r.alpha = opt.alpha > 0 ? opt.alpha : static_cast<double>(opt.rank);
  std::size_t pretrain_steps = 24, finetune_steps = 16;
  if (opt.full) {
    // chapter 16's --full recipe for the model from scratch (its choices were made on the validation
    // poems); the pretraining learning rate was not searched; (b) and (c)'s are chosen here, on the
    // validation poems, from three each
    r.seeds = 3;
    r.draws = 1;
    r.reports = 10;
    r.slice = 1;
    r.held_out_every = 100;
    pretrain_steps = 400;
    finetune_steps = 300;
    r.pretrain = recipe(1e-3, 0.1, 100, true, true);
    r.scratch = recipe(1e-3, 1.0, 100, true, true);
    r.full = recipe(0, 0.1, 50, true, true);
    r.lora = recipe(0, 0.0, 50, true, false);
    r.full_lrs = {3e-4, 1e-3, 3e-3};
    r.lora_lrs = {3e-3, 1e-2, 3e-2};
  } else {
    r.slice = 20;
    r.held_out_every = 500;
    r.pretrain = recipe(3e-3, 0.01, 0, false, false);
    r.scratch = r.pretrain;  // chapter 16's default
    r.full = recipe(0, 0.01, 0, false, false);
    r.lora = recipe(0, 0.0, 0, false, false);
    r.full_lrs = {1e-3, 3e-3};
    r.lora_lrs = {3e-3, 1e-2};
  }
  if (opt.pretrain_steps > 0) pretrain_steps = static_cast<std::size_t>(opt.pretrain_steps);
  if (opt.finetune_steps > 0) finetune_steps = static_cast<std::size_t>(opt.finetune_steps);
  if (opt.seeds > 0) r.seeds = static_cast<std::size_t>(opt.seeds);
  r.pretrain.steps = pretrain_steps;
  r.scratch.steps = r.full.steps = r.lora.steps = finetune_steps;
  for (TrainingOptions* o : {&r.pretrain, &r.scratch, &r.full, &r.lora})
    o->warmup = std::min(o->warmup, o->steps / 2);
  return r;
}

// ---- the texts ----------------------------------------------------------------------------------------------

// What the models read, as ids of one vocabulary. The pretraining text is the kept entries' texts one
// after the other, each followed by an empty line as a poem is (poem_text); held-out fortunes are
// entries never trained on. Training windows start where a line starts; held-out texts are read in
// whole-line windows (chapter 16's line_starts and evaluation_windows).
struct Texts {
  std::vector<std::size_t> pretrain, fortunes, train, validation, test;
  std::vector<std::size_t> pretrain_starts, train_starts;
  std::vector<Window> fortunes_windows, validation_windows, test_windows;
  std::vector<std::size_t> validation_positions, test_positions;
};

// with_rare_replaced — the text with every character that occurs fewer than `fewer_than` times in it
// and in no poem replaced by ⟨rare⟩ (U+FFFD): one id for thousands of rare characters, whose table
// rows (in tok.weight and head.weight) would cost as much as the rest of the model to train.
constexpr char32_t kRare = U'\uFFFD';
std::u32string with_rare_replaced(const std::u32string& text, const std::u32string& poems,
                                  std::size_t fewer_than) {
  std::map<char32_t, std::size_t> count;
  for (char32_t ch : text) ++count[ch];
  for (char32_t ch : poems) count[ch] += fewer_than;
  std::u32string out = text;
  for (char32_t& ch : out)
    if (count[ch] < fewer_than) ch = kRare;
  return out;
}

// The corpus's entries split: held-out fortunes (i % every == 9), the pretraining entries (the rest,
// those with i % slice == 0 in the default run's slice).
struct FortuneSplit {
  std::u32string pretrain, held_out;
  std::size_t pretrain_entries = 0, held_out_entries = 0;
};
FortuneSplit split_fortunes(const std::vector<FortuneEntry>& entries, const RunConfig& r) {
  FortuneSplit s;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::u32string text = entries[i].text + U"\n";
    if (i % r.held_out_every == 9) {
      s.held_out += text;
      ++s.held_out_entries;
    } else if (i % r.slice == 0) {
      s.pretrain += text;
      ++s.pretrain_entries;
    }
  }
  return s;
}

// ---- training, with a report every few steps ------------------------------------------------------------

// A training run's curve: the loss before each step (nats), and at each report the bits per character
// on the validation poems and (while pretraining) on the held-out fortunes.
struct Curve {
  std::vector<double> losses;
  std::vector<std::size_t> steps;
  std::vector<double> validation_bits, fortunes_bits;
};

double bits_on(const TinyGpt& model, const std::vector<std::size_t>& ids,
               const std::vector<Window>& windows) {
  return mean_loss(model, ids, windows).loss / kLn2;
}

// Runs train_some(n) (n steps, returning their losses) in `reports` stretches, measuring the model
// model_now() gives before each stretch and at the end.
template <class TrainSome, class ModelNow>
Curve train_with_reports(std::size_t steps, std::size_t reports, const Texts& x, bool fortunes,
                         TrainSome train_some, ModelNow model_now) {
  Curve c;
  const std::size_t every = std::max<std::size_t>(1, steps / reports);
  const auto report = [&](std::size_t step) {
    const TinyGpt model = model_now();
    c.steps.push_back(step);
    c.validation_bits.push_back(bits_on(model, x.validation, x.validation_windows));
    if (fortunes) c.fortunes_bits.push_back(bits_on(model, x.fortunes, x.fortunes_windows));
  };
  for (std::size_t step = 0; step < steps; step += every) {
    report(step);
    for (double loss : train_some(std::min(every, steps - step))) c.losses.push_back(loss);
  }
  report(steps);
  return c;
}

// A model trained with chapter 16's Trainer on a text's training windows, drawn from batch_rng.
struct Trained {
  TinyGpt model;
  Curve curve;
};
Trained train_gpt(TinyGpt model, const TrainingOptions& options, std::uint64_t batch_seed,
                  const std::vector<std::size_t>& text, const std::vector<std::size_t>& starts,
                  const RunConfig& r, const Texts& x, bool fortunes) {
  Trained t{std::move(model), {}};
  Trainer trainer(options);
  Rng batch_rng(batch_seed);
  t.curve = train_with_reports(
      options.steps, r.reports, x, fortunes,
      [&](std::size_t n) {
        return train_steps(t.model, trainer, batch_rng, text, starts, r.batch, r.model.n_ctx, n);
      },
      [&] { return t.model; });
  return t;
}

// LoRA on the frozen base, on the same batches (batch_rng drawn as train_steps draws it).
struct TrainedLora {
  LoraAdapters adapters;
  Curve curve;
};
TrainedLora train_lora(const TinyGpt& base, const TrainingOptions& options, std::uint64_t seed,
                       std::uint64_t batch_seed, const RunConfig& r, const Texts& x) {
  Rng rng(seed);
  TrainedLora t{new_adapters(rng, base, r.rank, r.alpha), {}};
  LoraTrainer trainer(options);
  Rng batch_rng(batch_seed);
  t.curve = train_with_reports(
      options.steps, r.reports, x, false,
      [&](std::size_t n) {
        std::vector<double> losses;
        for (std::size_t k = 0; k < n; ++k)
          losses.push_back(trainer.step(
              base, t.adapters, training_batch(batch_rng, x.train, x.train_starts, r.batch, r.model.n_ctx),
              r.model.n_ctx));
        return losses;
      },
      [&] { return merge_adapters(base, t.adapters); });
  return t;
}

// ---- one seed ----------------------------------------------------------------------------------------------

// A model's scores in bits per character, and the test positions' losses (bits) for the unseen share.
struct Scores {
  double validation = 0, test = 0, fortunes = 0;
  std::vector<double> test_bits;
};
Scores score(const TinyGpt& model, const Texts& x) {
  Scores s;
  s.validation = bits_on(model, x.validation, x.validation_windows);
  const TextLoss test = mean_loss(model, x.test, x.test_windows);
  s.test = test.loss / kLn2;
  s.test_bits = in_bits(test.position_losses);
  s.fortunes = bits_on(model, x.fortunes, x.fortunes_windows);
  return s;
}

// The four models of a seed and the pretrained one: 0 pretrained, 1 scratch, 2 full fine-tuning,
// 3 LoRA (merged), in this order everywhere.
constexpr std::size_t kModels = 4;
const char* const kModelNames[kModels] = {"pretrained, not adapted", "(a) from scratch on the poems",
                                          "(b) full fine-tuning", "(c) LoRA, merged"};

struct SeedRun {
  std::uint64_t seed = 0;
  Curve pretrain, scratch, full, lora;
  TinyGpt models[kModels];
  LoraAdapters adapters;
  Scores scores[kModels];
};

// Pretraining from seed: the model's start and its batches both drawn from the seed.
Trained pretrain(std::uint64_t seed, const RunConfig& r, const Texts& x) {
  Rng rng(seed);
  TinyGpt start = random_tiny_gpt(rng, r.model);
  if (r.pretrain.tie) tie_weights(start);
  return train_gpt(start, r.pretrain, seed + 1, x.pretrain, x.pretrain_starts, r, x, true);
}

// One adaptation of a seed's pretrained model (models[0]) to the training poems, on the seed's batches
// (seed + 2), with options; which: 1 from scratch (from the seed's own random model, seed + 3), 2 full
// fine-tuning, 3 LoRA (adapters from seed + 4), merged.
struct Adapted {
  TinyGpt model;
  Curve curve;
  LoraAdapters adapters;  // (c) only
  Scores scores;
};
Adapted adapt(const SeedRun& s, std::size_t which, const TrainingOptions& options, const RunConfig& r,
              const Texts& x) {
  const std::uint64_t batches = s.seed + 2;
  Adapted a;
  if (which == 1) {
    Rng rng(s.seed + 3);
    TinyGpt start = random_tiny_gpt(rng, r.model);
    if (options.tie) tie_weights(start);
    Trained t = train_gpt(start, options, batches, x.train, x.train_starts, r, x, false);
    a.model = std::move(t.model);
    a.curve = std::move(t.curve);
  } else if (which == 2) {
    Trained t = train_gpt(s.models[0], options, batches, x.train, x.train_starts, r, x, false);
    a.model = std::move(t.model);
    a.curve = std::move(t.curve);
  } else {
    TrainedLora t = train_lora(s.models[0], options, s.seed + 4, batches, r, x);
    a.model = merge_adapters(s.models[0], t.adapters);
    a.adapters = std::move(t.adapters);
    a.curve = std::move(t.curve);
  }
  a.scores = score(a.model, x);
  return a;
}

// Keeps an adaptation as the seed's model `which`.
void keep(SeedRun& s, std::size_t which, Adapted a) {
  s.models[which] = std::move(a.model);
  s.scores[which] = std::move(a.scores);
  Curve* curves[kModels] = {&s.pretrain, &s.scratch, &s.full, &s.lora};
  *curves[which] = std::move(a.curve);
  if (which == 3) s.adapters = std::move(a.adapters);
}

TrainingOptions with_lr(TrainingOptions o, double lr) {
  o.lr = lr;
  return o;
}

// (b) and (c)'s learning rates, chosen on the validation poems: seed s's full fine-tuning and LoRA run
// with each rate tried (all of them as jobs on two threads), for each the run with the lowest
// validation bits after the last step kept as the seed's. The test poems play no part.
struct LearningRateChoice {
  std::vector<double> lrs, validation;  // the rates tried; each run's validation bits
  std::size_t chosen = 0;
};
struct LearningRates {
  LearningRateChoice full, lora;
};
LearningRates choose_learning_rates(SeedRun& s, const RunConfig& r, const Texts& x) {
  const std::size_t n_full = r.full_lrs.size();
  std::vector<Adapted> runs(n_full + r.lora_lrs.size());
  run_on_two_threads(runs.size(), [&](std::size_t k) {
    runs[k] = k < n_full ? adapt(s, 2, with_lr(r.full, r.full_lrs[k]), r, x)
                         : adapt(s, 3, with_lr(r.lora, r.lora_lrs[k - n_full]), r, x);
  });
  LearningRates rates;
  rates.full.lrs = r.full_lrs;
  rates.lora.lrs = r.lora_lrs;
  for (std::size_t k = 0; k < runs.size(); ++k) {
    LearningRateChoice& c = k < n_full ? rates.full : rates.lora;
    c.validation.push_back(runs[k].scores.validation);
  }
  for (LearningRateChoice* c : {&rates.full, &rates.lora})
    for (std::size_t k = 0; k < c->lrs.size(); ++k)
      if (c->validation[k] < c->validation[c->chosen]) c->chosen = k;
  keep(s, 2, std::move(runs[rates.full.chosen]));
  keep(s, 3, std::move(runs[n_full + rates.lora.chosen]));
  return rates;
}

// ---- everything the program shows --------------------------------------------------------------------------

// The LoRA example: one layer, its adapters, and what they give.
struct LoraExample {
  double alpha = 0;
  Matrix x, W, A, B;           // x (T, E), W (E, E), A (r, E), B (E, r), B nonzero
  Matrix y, y_merged, update;  // lora_forward; x · merge_loraᵀ; merge_lora − W (rank r)
  double start_error = 0;      // max |lora_forward with B = 0 − x Wᵀ|
  std::size_t base_parameters = 0, adapter_parameters = 0;
};

// The n-gram baselines of one training text: counted from it, tuned on the validation poems.
struct Baselines {
  NgramBaselines tuned;
  std::vector<bool> test_unseen;  // per test position: never in this training text
  std::size_t test_unseen_count = 0;
};

struct Example {
  RunConfig config;
  std::size_t poems = 0, validation_poems = 0, test_poems = 0, held_out_lines = 0;  // lines of 8+
  CorpusStats chinese, song100;  // each file, cleaned, before leakage removal
  PretrainCorpus corpus;         // both, leakage removed
  CorpusStats kept;              // corpus_stats(corpus.entries)
  std::size_t lines_found_after = 0;
  LoraExample lora;
  // the texts
  FortuneSplit fortunes;
  PoemSplit split;
  Vocabulary vocab;
  Texts text;
  std::size_t rare_replaced = 0;  // characters of the fortunes replaced by ⟨rare⟩
  // characters of the vocabulary in neither the pretraining text nor the training poems
  std::size_t vocab_unseen = 0;
  Baselines poems_only, with_fortunes;  // counted from the training poems; from the pretraining text and them
  // the seeds' runs (the first seed's shown in full) and the checks on them
  std::vector<SeedRun> seeds;
  LearningRates rates;  // (b) and (c)'s, chosen on the first seed's validation bits
  std::vector<double> rerun_losses;
  double merge_error = 0;  // max |lora_forward on the layers' inputs − the merged model's projections|
  std::size_t parameters = 0, adapter_parameters = 0;
  // the first seed's samples, their lines' shape, and the adapted models' heads
  std::string prompt, samples[kModels];
  LineShape shape_poems, shapes[kModels];
  HeadStatistics heads_full, heads_lora;
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

// The baselines counted from ids (a training text), tuned on the validation poems.
Baselines baselines(const std::vector<std::size_t>& ids, const Example& e) {
  Baselines b;
  const CharCounts counts = count_chars(ids, e.vocab.size());
  b.tuned = tune_baselines(counts, e.text.validation, e.text.validation_positions, e.text.test,
                           e.text.test_positions);
  b.test_unseen = unseen_in_training(counts, e.text.test, e.text.test_positions);
  for (bool u : b.test_unseen) b.test_unseen_count += u ? 1 : 0;
  return b;
}

// The merged model against the adapters: on a test window, each block's attention projections as the
// merged model computed them, against lora_forward on the same inputs with the base weights.
double merge_error(const SeedRun& s, const Texts& x) {
  const Window& w = x.test_windows[0];
  const std::vector<std::size_t> ids(x.test.begin() + static_cast<std::ptrdiff_t>(w.start),
                                     x.test.begin() + static_cast<std::ptrdiff_t>(w.start + w.length - 1));
  const TinyGptForward f = tiny_gpt_forward(s.models[3], ids, ids.size());
  const LoraAdapters& a = s.adapters;
  double error = 0.0;
  for (std::size_t l = 0; l < f.blocks.size(); ++l) {
    const SelfAttentionActivations& saved = f.blocks[l].saved.attention;
    const MultiHeadWeights& base = s.models[0].blocks[l].self_attn;
    const MultiHeadWeights& merged = s.models[3].blocks[l].self_attn;
    Matrix qkv = lora_forward(saved.x, base.in_proj_weight, a.in_A[l], a.in_B[l], a.alpha);
    qkv += xt::view(base.in_proj_bias, xt::newaxis(), xt::all());
    error = std::max(error, max_abs_diff(qkv, saved.qkv));
    const Matrix out = lora_forward(saved.merged, base.out_proj_weight, a.out_A[l], a.out_B[l], a.alpha);
    error = std::max(error, max_abs_diff(out, product_nt(saved.merged, merged.out_proj_weight)));
  }
  return error;
}

// A run's cost in cli.hpp's units, counted from the sizes as chapter 16 counts its own: per seed the
// pretraining and the three adaptations' steps, the evaluations at every report and at the end, and
// the samples (one token at a time), times chapter 16's kOverhead (most of the work runs in OpenBLAS's
// products, faster than plain multiply-adds).
constexpr double kOverhead = 0.25;
Cost cost_of(const RunConfig& r, const Texts& x) {
  const TinyGptConfig& m = r.model;
  const double step = training_step_multiply_adds(m, r.batch, m.n_ctx);
  const double per_token = step / 3.0 / static_cast<double>(r.batch * m.n_ctx);
  const double val = static_cast<double>(x.validation.size()), test = static_cast<double>(x.test.size()),
               fortunes = static_cast<double>(x.fortunes.size());
  const double reports = static_cast<double>(r.reports + 1);
  const double evals = reports * (val + fortunes) + 3.0 * reports * val + kModels * (val + test + fortunes);
  const double tried_evals = static_cast<double>(r.full_lrs.size() + r.lora_lrs.size() - 2) *
                             ((reports + 1.0) * val + test + fortunes);
  const double steps = static_cast<double>(r.pretrain.steps + 3 * r.full.steps);
  const double tried = static_cast<double>((r.full_lrs.size() + r.lora_lrs.size() - 2) * r.full.steps);
  const double E = m.d_model, V = static_cast<double>(m.vocab);
  const double windows = kModels * (static_cast<double>(x.validation_windows.size()) * r.draws + 1.0);
  const double samples = 2.0 * windows * (m.n_ctx - 1.0) * (m.n_ctx * (per_token - V * E) + V * E);
  const double work = static_cast<double>(r.seeds) * (steps * step + evals * per_token) + tried * step +
                      tried_evals * per_token + samples;
  return {training_memory_bytes(m, 64.0 * m.n_ctx), kOverhead * work};
}
constexpr Limits kDefaultLimits{memory_limit_bytes, 8 * work_limit};
constexpr Limits kFullLimits{memory_limit_bytes, 1200 * work_limit};

// The texts in a vocabulary: the pretraining text, the held-out fortunes and the poems' three parts as
// ids, where their lines start, the held-out texts' windows of at most n_ctx + 1 characters.
Texts texts_of(const Vocabulary& v, const std::u32string& pretrain, const std::u32string& fortunes,
               const PoemSplit& split, std::size_t n_ctx) {
  Texts x;
  const std::size_t newline = v.ids.at(U'\n');
  x.pretrain = v.encode(pretrain);
  x.fortunes = v.encode(fortunes);
  x.train = v.encode(split.train);
  x.validation = v.encode(split.validation);
  x.test = v.encode(split.test);
  x.pretrain_starts = line_starts(x.pretrain, newline);
  x.train_starts = line_starts(x.train, newline);
  x.fortunes_windows = evaluation_windows(x.fortunes, newline, n_ctx);
  x.validation_windows = evaluation_windows(x.validation, newline, n_ctx);
  x.test_windows = evaluation_windows(x.test, newline, n_ctx);
  x.validation_positions = predicted_positions(x.validation_windows);
  x.test_positions = predicted_positions(x.test_windows);
  return x;
}

// The run's cost (cost_of) within the run's limits, or a usage error naming the flags.
void require_within_budget(const RunConfig& r, const Texts& x, const Options& opt) {
  require_within_limits(cost_of(r, x),
                        fmt::format("{}--pretrain-steps {} --finetune-steps {} --seeds {}",
                                    opt.full ? "--full " : "", r.pretrain.steps, r.full.steps, r.seeds),
                        opt.full ? kFullLimits : kDefaultLimits);
}

// Before the corpus is read (cleaning it and removing the leakage take seconds): the cost with the
// poems alone — a vocabulary of their characters only, no fortunes — is at most the run's (the run's
// vocabulary holds every poem's character), so a run refused here would be refused later too.
void refuse_early(const Options& opt, const std::vector<Poem>& poems) {
  RunConfig r = run_config(opt, 0);
  std::u32string poem_chars;
  for (const Poem& p : poems) poem_chars += poem_text(p);
  const Vocabulary v = vocabulary_of(poem_chars);
  r.model.vocab = v.size();
  require_within_budget(r, texts_of(v, U"", U"", split_tang300(poems), r.model.n_ctx), opt);
}

// 1. Compute: read the files, clean, count, remove the leakage; the LoRA example; the texts; the
//    baselines; pretrain and adapt every seed; the checks; the first seed's samples and heads.
Example compute(const Options& opt) {
  Example e;
  const std::vector<Poem> poems = load_tang300(opt.fortunes + "/tang300");
  refuse_early(opt, poems);
  std::vector<FortuneEntry> entries = read_fortunes(opt.fortunes, kChineseFile);
  const std::vector<FortuneEntry> song = read_fortunes(opt.fortunes, kSong100File);
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
  // the texts: the vocabulary is every character of the pretraining text, the held-out fortunes and
  // every poem (as chapter 16's), so that every held-out text can be written down
  e.config = run_config(opt, 0);
  e.fortunes = split_fortunes(e.corpus.entries, e.config);
  e.split = split_tang300(poems);
  std::u32string poem_chars;
  for (const Poem& p : poems) poem_chars += poem_text(p);
  const std::size_t pretrain_size = e.fortunes.pretrain.size();
  const std::u32string fortunes =
      with_rare_replaced(e.fortunes.pretrain + e.fortunes.held_out, poem_chars, e.config.rare);
  for (char32_t ch : fortunes) e.rare_replaced += ch == kRare ? 1 : 0;
  e.fortunes.pretrain = fortunes.substr(0, pretrain_size);
  e.fortunes.held_out = fortunes.substr(pretrain_size);
  e.vocab = vocabulary_of(fortunes + poem_chars);
  e.config.model.vocab = e.vocab.size();
  const RunConfig& r = e.config;
  Texts& x = e.text;
  x = texts_of(e.vocab, e.fortunes.pretrain, e.fortunes.held_out, e.split, r.model.n_ctx);
  require_within_budget(r, x, opt);
  // the baselines: counted from exactly the text each model saw
  std::vector<std::size_t> seen = x.pretrain;
  seen.insert(seen.end(), x.train.begin(), x.train.end());
  e.poems_only = baselines(x.train, e);
  e.with_fortunes = baselines(seen, e);
  const CharCounts seen_counts = count_chars(seen, e.vocab.size());
  for (double c : seen_counts.counts) e.vocab_unseen += c == 0.0 ? 1 : 0;
  // 1. every seed's pretraining and its control (a), which starts from no pretrained model, as jobs on
  //    two threads
  e.seeds.resize(r.seeds);
  for (std::size_t k = 0; k < r.seeds; ++k) e.seeds[k].seed = opt.common.seed + 1000 * k;
  run_on_two_threads(2 * r.seeds, [&](std::size_t j) {
    SeedRun& s = e.seeds[j % r.seeds];
    if (j < r.seeds) {
      Trained t = pretrain(s.seed, r, x);
      s.models[0] = std::move(t.model);
      s.pretrain = std::move(t.curve);
      s.scores[0] = score(s.models[0], x);
    } else {
      keep(s, 1, adapt(s, 1, r.scratch, r, x));
    }
  });
  // 2. (b) and (c)'s learning rates chosen on the first seed's validation bits
  e.rates = choose_learning_rates(e.seeds[0], r, x);
  e.config.full.lr = r.full_lrs[e.rates.full.chosen];
  e.config.lora.lr = r.lora_lrs[e.rates.lora.chosen];
  // 3. (b) and (c) of the other seeds with those rates
  run_on_two_threads(2 * (r.seeds - 1), [&](std::size_t j) {
    SeedRun& s = e.seeds[1 + j / 2];
    const std::size_t which = 2 + j % 2;
    keep(s, which, adapt(s, which, which == 2 ? r.full : r.lora, r, x));
  });
  // the checks: the first pretraining steps again; the merged model against the adapters
  const SeedRun& first = e.seeds[0];
  TrainingOptions again = r.pretrain;
  again.steps = std::min<std::size_t>(3, r.pretrain.steps);
  Rng rng(first.seed);
  TinyGpt start = random_tiny_gpt(rng, r.model);
  if (again.tie) tie_weights(start);
  Trainer trainer(again);
  Rng batch_rng(first.seed + 1);
  e.rerun_losses = train_steps(start, trainer, batch_rng, x.pretrain, x.pretrain_starts, r.batch,
                               r.model.n_ctx, again.steps);
  e.merge_error = merge_error(first, x);
  e.parameters = parameter_count(first.models[0]) - (r.pretrain.tie ? r.model.vocab * r.model.d_model : 0);
  LoraAdapters adapters = first.adapters;
  for (const NamedTensor& t : named_tensors(adapters)) e.adapter_parameters += t.size;
  // the first seed's samples: top-k from the first validation poem's first character, one window
  std::size_t first_validation = 0;
  while (poem_part(first_validation) != PoemPart::validation) ++first_validation;
  const std::vector<std::size_t> prompt = e.vocab.encode(poems[first_validation].lines[0].substr(0, 1));
  e.prompt = e.vocab.decode(prompt);
  SamplingOptions topk;
  topk.temperature = 0.8;
  topk.top_k = 10;
  for (std::size_t m = 0; m < kModels; ++m) {
    Rng sample_rng(first.seed + 5);
    e.samples[m] = e.vocab.decode(generate(first.models[m], prompt, r.model.n_ctx - 1, topk, sample_rng));
  }
  // the lines' shape: draws windows from each validation poem's first character, per model
  e.shape_poems = line_shape(e.split.validation);
  for (std::size_t m = 0; m < kModels; ++m) {
    Rng shape_rng(first.seed + 6);
    for (std::size_t p = 0; p < poems.size(); ++p) {
      if (poem_part(p) != PoemPart::validation) continue;
      const std::vector<std::size_t> start_id = e.vocab.encode(poems[p].lines[0].substr(0, 1));
      for (std::size_t d = 0; d < r.draws; ++d) {
        const std::vector<std::size_t> ids =
            generate(first.models[m], start_id, r.model.n_ctx - 1, topk, shape_rng);
        std::u32string text;
        for (std::size_t id : ids) text.push_back(e.vocab.chars[id]);
        e.shapes[m] += line_shape(text);
      }
    }
  }
  e.heads_full = head_statistics(first.models[2], e.vocab, poems);
  e.heads_lora = head_statistics(first.models[3], e.vocab, poems);
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

// The seeds' values of one number of one model.
template <class Get>
std::vector<double> over_seeds(const Example& e, Get get) {
  std::vector<double> v;
  for (const SeedRun& s : e.seeds) v.push_back(get(s));
  return v;
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

void show_texts(const Example& e) {
  print_section("4. The texts: what the models read, one vocabulary");
  const RunConfig& r = e.config;
  if (r.slice > 1)
    fmt::print(
        "This run pretrains on a slice: every {}th entry of the kept corpus (--full reads them all).\n",
        r.slice);
  fmt::print("pretraining text:  {} entries, {} characters\n", thousands(e.fortunes.pretrain_entries),
             thousands(e.text.pretrain.size()));
  fmt::print("held-out fortunes: {} entries (entry i with i % {} = 9), {} characters, never trained on\n",
             thousands(e.fortunes.held_out_entries), r.held_out_every, thousands(e.text.fortunes.size()));
  fmt::print(
      "poems (chapter 16's split): {} for training ({} characters), {} for validation ({}), {} for test "
      "({})\n",
      e.split.train_poems, thousands(e.text.train.size()), e.split.validation_poems,
      thousands(e.text.validation.size()), e.split.test_poems, thousands(e.text.test.size()));
  fmt::print(
      "vocabulary: {} characters, every one of the poems (as chapter 16's, so that every held-out poem can\n"
      "be written down) and of the fortunes, with '\\n', by code point, except that a fortune's character\n"
      "seen fewer than {} times in this text and in no poem is one character, ⟨rare⟩ (U+FFFD): {} of the\n"
      "fortunes' characters. {} of the vocabulary occur in neither the pretraining text nor the training\n"
      "poems: no model saw them, each pays for them (the share is measured below)\n",
      thousands(e.vocab.size()), e.config.rare, thousands(e.rare_replaced), thousands(e.vocab_unseen));
}

void show_pretraining(const Example& e) {
  const SeedRun& s = e.seeds[0];
  const TrainingOptions& o = e.config.pretrain;
  const TinyGptConfig& m = e.config.model;
  print_section(fmt::format("5. Pretraining (seed {}): bits per character", s.seed));
  fmt::print(
      "TinyGPT: n_ctx = {}, E = {}, H = {}, F = {}, {} block{}, V = {}: {} parameters{}\n"
      "{} steps of {} windows, AdamW lr {:g}{}{}, weight decay {:g}\n",
      m.n_ctx, m.d_model, m.n_heads, m.d_ff, m.n_layers, m.n_layers == 1 ? "" : "s", m.vocab,
      thousands(e.parameters), o.tie ? " (head tied to the embedding)" : "", o.steps, e.config.batch, o.lr,
      o.warmup > 0 ? fmt::format(", warm-up {}", o.warmup) : std::string(),
      o.cosine ? ", cosine to lr/10" : "", o.weight_decay);
  fmt::print("{:>6}  {:>12}  {:>17}  {:>16}\n", "step", "train bits", "held-out fortunes",
             "validation poems");
  for (std::size_t k = 0; k < s.pretrain.steps.size(); ++k) {
    const std::size_t from = k == 0 ? 0 : s.pretrain.steps[k - 1], to = s.pretrain.steps[k];
    std::vector<double> batch;
    for (std::size_t t = from; t < to; ++t) batch.push_back(s.pretrain.losses[t] / kLn2);
    fmt::print("{:>6}  {:>12}  {:>17.4f}  {:>16.4f}\n", to,
               batch.empty() ? std::string() : fmt::format("{:.4f}", mean_of(batch)),
               s.pretrain.fortunes_bits[k], s.pretrain.validation_bits[k]);
  }
}

void show_adapting(const Example& e) {
  const SeedRun& s = e.seeds[0];
  const RunConfig& r = e.config;
  print_section(
      fmt::format("6. Adapting to the training poems (seed {}): the same batches, bits per character on the "
                  "validation poems",
                  s.seed));
  const auto line = [](const char* name, const TrainingOptions& o) {
    fmt::print("  {:<22} lr {:g}{}{}, weight decay {:g}\n", name, o.lr,
               o.warmup > 0 ? fmt::format(", warm-up {}", o.warmup) : std::string(),
               o.cosine ? ", cosine to lr/10" : "", o.weight_decay);
  };
  fmt::print(
      "(b) and (c)'s learning rate chosen on the validation poems: this seed's validation bits after {} "
      "steps\n",
      r.full.steps);
  const auto tried = [](const char* name, const LearningRateChoice& c) {
    fmt::print("  {:<22}", name);
    for (std::size_t k = 0; k < c.lrs.size(); ++k)
      fmt::print("  lr {:g}: {:.4f}{}", c.lrs[k], c.validation[k], k == c.chosen ? " (chosen)" : "");
    fmt::print("\n");
  };
  tried("(b) full fine-tuning", e.rates.full);
  tried("(c) LoRA", e.rates.lora);
  fmt::print("{} steps each{}:\n", r.full.steps, e.seeds.size() > 1 ? ", every seed" : "");
  line("(a) from scratch", r.scratch);
  line("(b) full fine-tuning", r.full);
  line("(c) LoRA", r.lora);
  fmt::print(
      "LoRA: rank {} adapters on every block's in_proj_weight (3E, E) and out_proj.weight (E, E), α = {:g}\n"
      "(s = α/r = {:g}), B = 0 and A uniform in ±1/√E at the start; {} trainable parameters against the\n"
      "model's {} ({}), the base frozen\n",
      r.rank, r.alpha, r.alpha / static_cast<double>(r.rank), thousands(e.adapter_parameters),
      thousands(e.parameters),
      percent(static_cast<double>(e.adapter_parameters) / static_cast<double>(e.parameters)));
  fmt::print("{:>6}  {:>17}  {:>21}  {:>9}\n", "step", "(a) from scratch", "(b) full fine-tuning",
             "(c) LoRA");
  for (std::size_t k = 0; k < s.full.steps.size(); ++k)
    fmt::print("{:>6}  {:>17.4f}  {:>21.4f}  {:>9.4f}\n", s.full.steps[k], s.scratch.validation_bits[k],
               s.full.validation_bits[k], s.lora.validation_bits[k]);
}

void show_baselines(const Example& e) {
  print_section(
      "7. Baselines, counted from exactly the text each model saw; α and λ chosen on the validation poems");
  fmt::print("{:<44}  {:>10}  {:>10}\n", "", "validation", "test");
  const auto rows = [](const char* text, const Baselines& b) {
    const NgramBaselines& t = b.tuned;
    fmt::print("{:<44}  {:>10.4f}  {:>10.4f}\n",
               fmt::format("{}: unigram, add-{:g}", text, t.unigram.best.alpha),
               mean_of(t.unigram.validation), mean_of(t.unigram.test));
    fmt::print("{:<44}  {:>10.4f}  {:>10.4f}\n",
               fmt::format("{}: interpolated bigram, λ = {:g}", text, t.interpolated.best.lambda),
               mean_of(t.interpolated.validation), mean_of(t.interpolated.test));
  };
  rows("poems", e.poems_only);
  rows("fortunes + poems", e.with_fortunes);
  fmt::print("(the unigram's α from 0.001 to 10, λ from 0.1 to 0.9; the best on validation kept)\n");
}

void show_test(const Example& e) {
  const std::size_t n = e.text.test_positions.size();
  print_section(fmt::format("8. The test poems, scored once: bits per character, {} seed{}{}", e.seeds.size(),
                            e.seeds.size() == 1 ? "" : "s", e.seeds.size() == 1 ? "" : " (mean ± sd)"));
  fmt::print(
      "{} predicted characters; {} of them never occur in the training poems, {} in neither the\n"
      "pretraining text nor the training poems\n",
      thousands(n), e.poems_only.test_unseen_count, e.with_fortunes.test_unseen_count);
  fmt::print("{:<36}  {:>16}  {:>16}  {:>16}\n", "", "test", "of it on unseen", "validation");
  const auto ngram = [&](const std::string& name, const Tuned& t, const Baselines& b) {
    fmt::print("{:<36}  {:>16.4f}  {:>16.4f}  {:>16.4f}\n", name, mean_of(t.test),
               share_on(t.test, b.test_unseen), mean_of(t.validation));
  };
  ngram("unigram, poems", e.poems_only.tuned.unigram, e.poems_only);
  ngram("interpolated bigram, poems", e.poems_only.tuned.interpolated, e.poems_only);
  ngram("unigram, fortunes + poems", e.with_fortunes.tuned.unigram, e.with_fortunes);
  ngram("interpolated bigram, fortunes + poems", e.with_fortunes.tuned.interpolated, e.with_fortunes);
  for (std::size_t m = 0; m < kModels; ++m) {
    const Baselines& b = m == 1 ? e.poems_only : e.with_fortunes;
    fmt::print("{:<36}  {:>16}  {:>16}  {:>16}\n", kModelNames[m],
               mean_sd(over_seeds(e, [m](const SeedRun& s) { return s.scores[m].test; })),
               mean_sd(over_seeds(
                   e, [&](const SeedRun& s) { return share_on(s.scores[m].test_bits, b.test_unseen); })),
               mean_sd(over_seeds(e, [m](const SeedRun& s) { return s.scores[m].validation; })));
  }
  const double best_ngram = std::min(mean_of(e.poems_only.tuned.interpolated.test),
                                     mean_of(e.with_fortunes.tuned.interpolated.test));
  const auto gap = [&](const char* name, std::size_t m, std::size_t against) {
    const std::vector<double> d = over_seeds(e, [&](const SeedRun& s) {
      return s.scores[m].test - (against == kModels ? best_ngram : s.scores[against].test);
    });
    fmt::print("  {:<52} {}\n", name, mean_sd(d));
  };
  fmt::print("differences, test bits per character:\n");
  gap("(b) full fine-tuning − the better interpolated bigram", 2, kModels);
  gap("(c) LoRA − the better interpolated bigram", 3, kModels);
  gap("(b) full fine-tuning − (a) from scratch", 2, 1);
  gap("(c) LoRA − (a) from scratch", 3, 1);
}

void show_forgetting(const Example& e) {
  print_section("9. Forgetting: bits per character on the held-out fortunes");
  for (std::size_t m = 0; m < kModels; ++m)
    fmt::print("  {:<34} {}\n", kModelNames[m],
               mean_sd(over_seeds(e, [m](const SeedRun& s) { return s.scores[m].fortunes; })));
  fmt::print("((a) never read a fortune: its number is what knowing the poems alone gives)\n");
}

// a sample on one line: each '\n' shown as " / "
std::string one_line(const std::string& text) {
  std::string out;
  for (char ch : text) out += ch == '\n' ? std::string(" / ") : std::string(1, ch);
  return out;
}

void show_samples(const Example& e) {
  print_section(
      fmt::format("10. Samples (seed {}): {} characters after 「{}」, temperature 0.8, top-k 10 (a line "
                  "break shown as /)",
                  e.seeds[0].seed, e.config.model.n_ctx - 1, e.prompt));
  for (std::size_t m = 0; m < kModels; ++m) fmt::print("{}:\n  {}\n", kModelNames[m], one_line(e.samples[m]));
  fmt::print(
      "regular lines (chapter 16's measure: 5 or 7 characters，the same again。), in {} windows from\n"
      "each validation poem's first character:\n",
      e.config.draws);
  fmt::print("  {:<34} {:>4} of {:>4} = {}\n", "validation poems", e.shape_poems.regular, e.shape_poems.lines,
             percent(e.shape_poems.share()));
  for (std::size_t m = 0; m < kModels; ++m)
    fmt::print("  {:<34} {:>4} of {:>4} = {}\n", kModelNames[m], e.shapes[m].regular, e.shapes[m].lines,
               percent(e.shapes[m].share()));
}

void show_heads(const Example& e) {
  print_section(fmt::format("11. What the adapted models' heads attend to (seed {})", e.seeds[0].seed));
  fmt::print(
      "mean weight from the second half-line of a validation poem's regular line ({} queries) on:\n"
      "the same place in the first half-line, the character just before, the line's first character\n",
      e.heads_full.queries);
  fmt::print("{:<16}  {:^22}  {:^22}\n", "", "(b) full fine-tuning", "(c) LoRA");
  for (std::size_t l = 0; l < e.config.model.n_layers; ++l)
    for (std::size_t h = 0; h < e.config.model.n_heads; ++h)
      fmt::print("  block {} head {}:  {:.3f}  {:.3f}  {:.3f}    {:.3f}  {:.3f}  {:.3f}\n", l, h,
                 e.heads_full.parallel[l][h], e.heads_full.previous[l][h], e.heads_full.line_start[l][h],
                 e.heads_lora.parallel[l][h], e.heads_lora.previous[l][h], e.heads_lora.line_start[l][h]);
  fmt::print("(a head spreading its weight evenly over the past would give each {:.3f})\n",
             e.heads_full.uniform);
}

void show_savings(const Example& e) {
  print_section("12. What LoRA saves, counted for this model (8-byte numbers)");
  const double P = static_cast<double>(e.parameters), n = static_cast<double>(e.adapter_parameters);
  const auto kib = [](double numbers) { return fmt::format("{:.1f} KiB", 8.0 * numbers / 1024.0); };
  fmt::print("{:<40}  {:>22}  {:>16}\n", "", "(b) full fine-tuning", "(c) LoRA");
  fmt::print("{:<40}  {:>22}  {:>16}\n", "trained numbers", thousands(e.parameters),
             thousands(e.adapter_parameters));
  fmt::print("{:<40}  {:>22}  {:>16}\n", "AdamW's state (m and v)", kib(2 * P), kib(2 * n));
  fmt::print("{:<40}  {:>22}  {:>16}\n", "gradients kept for the step", kib(P), kib(n));
  fmt::print("{:<40}  {:>22}  {:>16}\n", "stored per task (beside the base)", kib(P), kib(n));
  fmt::print(
      "(this program's backward is chapter 16's: it still computes dL/dW_eff for the two projections\n"
      "and every other weight's gradient on the way, then keeps only the adapters'; the activations\n"
      "are the same for both)\n");
}

// 3. Draw the figures: the update the example's adapters make (rank r); pretraining; adapting.
void draw(const Example& e, Figures& figures) {
  const LoraExample& l = e.lora;
  figures.heatmap("18-lora-update.svg", l.update,
                  heatmap_spec(fmt::format("W_eff − W = (α/r) B A, rank {}", l.A.shape(0)),
                               numbered("o", l.update.shape(0)), numbered("i", l.update.shape(1)), "output o",
                               "input i"));
  const SeedRun& s = e.seeds[0];
  std::vector<double> x;
  for (std::size_t step : s.pretrain.steps) x.push_back(static_cast<double>(step));
  figures.line_plot(
      "18-pretraining.svg", x,
      {{"held-out fortunes", s.pretrain.fortunes_bits}, {"validation poems", s.pretrain.validation_bits}},
      {"Pretraining on fortunes-zh", "step", "bits per character", false, false});
  x.clear();
  for (std::size_t step : s.full.steps) x.push_back(static_cast<double>(step));
  const std::vector<double> bigram(x.size(), mean_of(e.with_fortunes.tuned.interpolated.validation));
  figures.line_plot(
      "18-adapting.svg", x,
      {{"(a) from scratch", s.scratch.validation_bits},
       {"(b) full fine-tuning", s.full.validation_bits},
       {"(c) LoRA", s.lora.validation_bits},
       {"interpolated bigram, fortunes + poems", bigram}},
      {"Adapting to the training poems: validation poems", "step", "bits per character", false, false});
}

// 4. The closing self-checks, from the results alone.
SelfChecks self_checks(const Example& e) {
  print_section("Self-checks");
  SelfChecks checks;
  const SeedRun& s = e.seeds[0];
  std::vector<std::vector<double>> others = {s.scratch.losses, s.full.losses, s.lora.losses};
  for (const SeedRun& run : e.seeds)
    for (std::size_t m = 0; m < kModels; ++m)
      others.push_back({run.scores[m].validation, run.scores[m].test, run.scores[m].fortunes});
  check_training_run(checks, e.rerun_losses, s.pretrain.losses, others);
  checks.expect("no held-out line of 8+ characters left in the pretraining text", e.lines_found_after == 0,
                fmt::format("{} before, {} after", e.corpus.lines_found_before, e.lines_found_after));
  checks.expect("entries kept + removed = entries read", e.kept.entries + e.corpus.removed == e.corpus.read,
                fmt::format("{} + {} = {}", e.kept.entries, e.corpus.removed, e.corpus.read));
  checks.below("lora_forward = x · merge_loraᵀ", max_abs_diff(e.lora.y, e.lora.y_merged), 1e-12);
  checks.below("B = 0 gives the base layer x Wᵀ", e.lora.start_error, 1e-12);
  checks.expect("LoRA starts as the pretrained model: its first loss is full fine-tuning's, to the bit",
                s.lora.losses[0] == s.full.losses[0]);
  checks.below("the merged model's projections = lora_forward on the same inputs, every block", e.merge_error,
               1e-10);
  const TinyGptConfig& m = e.config.model;
  checks.expect("trainable LoRA parameters = blocks · r · (E + 3E + E + E)",
                e.adapter_parameters == m.n_layers * e.config.rank * 6 * m.d_model,
                thousands(e.adapter_parameters));
  checks.expect("the validation poems' lines are mostly regular (the measure measures)",
                e.shape_poems.share() > 0.8, percent(e.shape_poems.share()));
  return checks;
}

int run_default(const Options& opt) {
  print_title("Chapter 18 · Pretrain, then fine-tune");
  print_config("data", fmt::format("{}/{{chinese, song100, tang300}} (Debian's fortunes-zh)", opt.fortunes));
  print_config("run", opt.full
                          ? "--full: the experiment, three seeds"
                          : "a tiny configuration on a slice of the corpus, one seed: the mechanism, not a "
                            "result (--full is the experiment)");
  print_config("seed", std::to_string(opt.common.seed));
  const Example e = compute(opt);
  show_corpus(e);
  show_leakage(e);
  show_lora(e.lora);
  show_texts(e);
  show_pretraining(e);
  show_adapting(e);
  show_baselines(e);
  show_test(e);
  show_forgetting(e);
  show_samples(e);
  show_heads(e);
  show_savings(e);
  Figures figures(opt.common);
  draw(e, figures);
  const SelfChecks checks = self_checks(e);
  figures.report();
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
// give them (make_fixtures.py): the LoRA training step's lora_loss_and_gradients, on PyTorch's numbers.
int run_loaded(const Options& opt) {
  if (opt.full || opt.pretrain_steps > 0 || opt.finetune_steps > 0 || opt.seeds > 0 || opt.rank_given)
    throw usage_error(
        "--full, --pretrain-steps, --finetune-steps, --seeds and --rank train on the fortunes and the poems; "
        "not with --load (r is read from the adapters' files)");
  LoraFiles f = load_lora_files(opt.common.load_dir, static_cast<std::size_t>(opt.heads), opt.alpha);
  const TinyGptConfig& c = f.model.config;
  const std::size_t T = f.ids.size(), r = f.adapters.rank();
  const double alpha = f.adapters.alpha;
  print_title("Chapter 18 · Pretrain, then fine-tune — a PyTorch TinyGPT with LoRA adapters");
  print_config("loaded", fmt::format("{}: V = {}, n_ctx = {}, E = {}, H = {}, F = {}, {} block(s), T = {}",
                                     opt.common.load_dir, c.vocab, c.n_ctx, c.d_model, c.n_heads, c.d_ff,
                                     c.n_layers, T));
  print_config("adapters", fmt::format("r = {}, α = {:g}, s = α/r = {:g}: W + s·B·A on every block's "
                                       "in_proj_weight and out_proj.weight",
                                       r, alpha, alpha / static_cast<double>(r)));
  LoraLossAndGradients l = lora_loss_and_gradients(f.model, f.adapters, f.ids, f.targets, T);
  const TinyGptLossAndGradients& g = l.merged;
  LoraAdapters& grads = l.grads;
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
  append_named(results, named_tensors(grads), ".grad");
  report_results(results, opt.common.save_dir);
  print_section("Self-checks");
  SelfChecks checks;
  const LoraAdapters &a = f.adapters, &d = grads;
  double balance = 0;
  for (std::size_t i = 0; i < c.n_layers; ++i) {
    balance = std::max({balance, balance_error(a.in_A[i], d.in_A[i], a.in_B[i], d.in_B[i]),
                        balance_error(a.out_A[i], d.out_A[i], a.out_B[i], d.out_B[i])});
  }
  checks.below("⟨A, dL/dA⟩ = ⟨B, dL/dB⟩ for every adapter pair (A → cA, B → B/c keeps B A)", balance, 1e-10);
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 18: Pretrain, then fine-tune", "ch18_pretrain_finetune"};
  Options opt;
  app.add_flag("--full", opt.full,
               "The experiment: the whole corpus, chapter 16's --full model, three seeds (minutes)");
  add_size_option(app, "--pretrain-steps", opt.pretrain_steps, "Pretraining steps (24; 400 with --full)",
                  1000000);
  add_size_option(app, "--finetune-steps", opt.finetune_steps,
                  "Steps of each adaptation (16; 300 with --full)", 1000000);
  app.add_option("--seeds", opt.seeds, "Seeds (1; 3 with --full)")->check(whole_number_in(1, 10));
  app.add_option(
      "--fortunes", opt.fortunes,
      "The directory of fortunes-zh's chinese, song100 and tang300 (default /usr/share/games/fortunes)");
  add_size_option(app, "--rank", opt.rank, "Rank r of the LoRA adapters (4)", 1, kExampleWidth,
                  "at most E = 8, the example layer's width");
  app.add_option("--lora-alpha", opt.alpha,
                 "α of the LoRA adapters, or of the --load files' adapters (default r): s = α / r")
      ->check(positive_up_to(1e6));
  add_size_option(app, "--heads", opt.heads, "Heads H of the --load files", 4096);
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] {
    opt.rank_given = app.count("--rank") > 0;
    opt.heads_given = app.count("--heads") > 0;
    return run_training_program(opt, opt.heads_given,
                                "--heads describes --load files; the trained model's sizes are fixed",
                                run_loaded, run_default);
  });
}

// Chapter 17 — fast generation: a KV cache, grouped K/V heads and a sliding window. The program trains a
// small TinyGPT on 唐诗三百首 on the spot (chapter 16's model and training step), then shows that a KV
// cache (prefill, then one decode_step per token) gives exactly the logits of full recomputation, counts
// and times the work per generated token against the context length, counts the cache's bytes against
// the parameters', shrinks the cache with grouped-query attention (G K/V heads; a model with G = 1
// trained beside G = H from the same seed), bounds it with a sliding window kept as a ring buffer, and
// generates a sample with the cache that is the sample chapter 16's generate writes. With --load DIR:
// PyTorch's TinyGPT files, decoded with the cache (a prefill of P tokens, then one at a time).
//
//   build/bin/ch17_fast_generation [--train-steps N] [--kv-heads G] [--window W] [--temperature T]
//                                  [--top-k K] [--no-timing] [--seed S] [--svg DIR] [--no-color]
//   build/bin/ch17_fast_generation --load DIR [--heads H] [--prefill P] [--save DIR]
//
// The program's shape: Options (the flags); compute() fills named structs; show_* print them, draw()
// writes the figures (nothing without --svg), self_checks() checks every claim; run() calls them in
// that order. run_loaded() does the same for --load. Timings change from run to run: --no-timing
// leaves them out (the docs' output block uses it; the docs show one timed run as plain text).
#include "17_fast_generation/given.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "results.hpp"
#include "rng.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int train_steps = 40;
  int kv_heads = 1;  // G of the model trained beside G = H
  bool kv_heads_given = false;
  int window = 8;  // W of the sliding window
  bool window_given = false;
  double temperature = 0.8;
  int top_k = 10;
  bool no_timing = false;
  int heads = 4;  // --heads H (--load files only)
  bool heads_given = false;
  int prefill = -1;  // --prefill P (--load only); -1: ⌊T/2⌋
  std::string data = kTang300Path;
};

// The trained model, and the larger context the timings run at (random weights: time does not
// depend on their values).
struct RunConfig {
  TinyGptConfig model;
  std::size_t batch = 16, steps = 40;
  double lr = 3e-3, weight_decay = 0.01;
  std::size_t timing_n_ctx = 256;
  std::vector<std::size_t> timing_lengths = {16, 32, 64, 128, 256};
  std::size_t timing_rounds = 9;
  std::size_t sample_chars = 31;  // a prompt of 1 and 31 new characters: the whole context of 32
};

RunConfig run_config(const Options& opt, std::size_t vocab) {
  RunConfig r;
  r.model = {vocab, 32, 32, 4, 64, 2};  // vocab, n_ctx, d_model, n_heads, d_ff, n_layers
  r.steps = static_cast<std::size_t>(opt.train_steps);
  return r;
}

// A run's cost in cli.hpp's units: two models trained, each evaluated on the held-out poems, the
// logits of a context cached and recomputed (every prefill length), and the timing rounds (one
// recomputation and one decode step per length and round, plus the prefills that set the caches up),
// times kOverhead as chapter 16 measured for its training (most work in OpenBLAS's products).
constexpr double kOverhead = 0.25;
Cost cost_of(const RunConfig& r, std::size_t held_out_chars, bool timing) {
  const TinyGptConfig& m = r.model;
  const double step = training_step_multiply_adds(m, r.batch, m.n_ctx);
  const double per_token = step / 3.0 / static_cast<double>(r.batch * m.n_ctx);
  double work = 2.0 * static_cast<double>(r.steps + 2) * step + 4.0 * held_out_chars * per_token;
  work += 2.0 * (m.n_ctx + 1) * recomputed_token_multiply_adds(m, m.n_ctx);  // (one forward over n_ctx)
  if (timing) {
    TinyGptConfig t = m;
    t.n_ctx = r.timing_n_ctx;
    for (std::size_t n : r.timing_lengths)
      work += (r.timing_rounds + 1) * 2.0 * recomputed_token_multiply_adds(t, n);
  }
  return {training_memory_bytes(m, 64.0 * m.n_ctx), kOverhead * work};
}

// ---- training ---------------------------------------------------------------------------------------

struct TrainingRun {
  std::size_t kv_heads = 0;
  TinyGpt model;
  std::vector<double> losses;  // before each step (nats)
  double held_out_bits = 0;
  std::vector<std::size_t> predicted;  // the held-out positions the bits are the mean over
  std::size_t parameters = 0;
};

// The poems as ids, with chapter 16's windows: training windows start where a line starts, the
// held-out text is read in whole-line windows.
struct Text {
  std::vector<std::size_t> train_ids, train_starts, held_ids;
  std::vector<Window> held_windows;
};

// The same seed gives every G the same embeddings, feed-forwards, norms, head and batches.
TrainingRun train(const RunConfig& r, std::size_t G, std::uint64_t seed, const Text& x, std::size_t steps) {
  Rng rng(seed);
  TrainingRun t;
  t.kv_heads = G;
  t.model = random_grouped_gpt(rng, r.model, G);
  t.parameters = parameter_count(t.model);
  TrainingOptions options;  // chapter 16's Trainer: AdamW at a constant lr, decay on every tensor
  options.lr = r.lr;
  options.weight_decay = r.weight_decay;
  options.steps = steps;
  Trainer trainer(options, grouped_loss_and_gradients);
  t.losses = train_steps(t.model, trainer, rng, x.train_ids, x.train_starts, r.batch, r.model.n_ctx, steps);
  const TextLoss held = grouped_mean_loss(t.model, x.held_ids, x.held_windows);
  t.held_out_bits = held.loss / std::log(2.0);
  t.predicted = held.predicted_positions;
  return t;
}

// A unigram model, add-0.5 counts from the training text (α not tuned: a reference level, not a
// competitor): −log₂ p(text[i]) averaged over the positions the models predict. A model that uses no
// context at all does about this well.
double unigram_bits(const std::vector<std::size_t>& train, const std::vector<std::size_t>& text,
                    const std::vector<std::size_t>& positions, std::size_t vocab) {
  std::vector<double> counts(vocab, 0.5);
  for (std::size_t id : train) counts[id] += 1.0;
  const double total = static_cast<double>(train.size()) + 0.5 * static_cast<double>(vocab);
  double bits = 0.0;
  for (std::size_t i : positions) bits -= std::log2(counts[text[i]] / total);
  return bits / static_cast<double>(positions.size());
}

// ---- (a) the cache against recomputation -----------------------------------------------------------------

struct CacheCheck {
  std::size_t T = 0;
  std::vector<std::size_t> prefills;  // every P from 0 to T
  std::vector<double> errors;         // max |cached − recomputed| for each
  double scale = 0;                   // max |recomputed logit|
  std::size_t decoded = 0;            // tokens decode_step took one at a time from an empty cache
  std::string refused;                // what the next one threw
};

CacheCheck check_cache(const TinyGpt& model, const std::vector<std::size_t>& ids) {
  CacheCheck c;
  c.T = ids.size();
  const Matrix full = tiny_gpt_forward(model, ids, c.T).logits;  // chapter 16's forward
  c.scale = xt::amax(xt::abs(full))();
  for (std::size_t P = 0; P <= c.T; ++P) {
    c.prefills.push_back(P);
    c.errors.push_back(max_abs_diff(cached_logits(model, ids, P), full));
  }
  // the off-by-one: a full cache refuses the next token
  KvCache cache = make_kv_cache(model);
  for (std::size_t t = 0; t < c.T; ++t) decode_step(model, cache, ids[t]);
  c.decoded = cache.length;
  try {
    decode_step(model, cache, ids[0]);
  } catch (const std::out_of_range& e) {
    c.refused = e.what();
  }
  return c;
}

// ---- (b) work and time per token -------------------------------------------------------------------------

struct Timing {
  TinyGptConfig config;                              // the timing model (n_ctx = the longest context)
  std::vector<std::size_t> lengths;                  // n
  std::vector<double> cached_work, recomputed_work;  // multiply-adds per token, counted
  double cached_work_exponent = 0, recomputed_work_exponent = 0;
  bool timed = false;
  std::size_t rounds = 0;
  std::vector<double> cached_seconds, recomputed_seconds;  // medians over the rounds
  double cached_exponent = 0, recomputed_exponent = 0;
};

// The counts for every length; unless --no-timing, the times too (given code: time_per_token, a
// decode step and a recomputation per length and round, in turn).
Timing measure_timing(const RunConfig& r, std::uint64_t seed, bool timed) {
  Timing t;
  t.config = r.model;
  t.config.n_ctx = r.timing_n_ctx;
  t.lengths = r.timing_lengths;
  for (std::size_t n : t.lengths) {
    t.cached_work.push_back(cached_token_multiply_adds(t.config, t.config.n_heads, n));
    t.recomputed_work.push_back(recomputed_token_multiply_adds(t.config, n));
  }
  t.cached_work_exponent = fitted_exponent(t.lengths, t.cached_work);
  t.recomputed_work_exponent = fitted_exponent(t.lengths, t.recomputed_work);
  t.timed = timed;
  if (!timed) return t;
  Rng rng(seed + 7);
  const TinyGpt model = random_tiny_gpt(rng, t.config);
  std::vector<std::size_t> ids;
  for (std::size_t i = 0; i < t.config.n_ctx; ++i) ids.push_back(rng.below(t.config.vocab));
  const TokenTimes times = time_per_token(model, ids, t.lengths, r.timing_rounds);
  t.rounds = times.rounds;
  t.cached_seconds = times.cached_seconds;
  t.recomputed_seconds = times.recomputed_seconds;
  t.cached_exponent = fitted_exponent(t.lengths, t.cached_seconds);
  t.recomputed_exponent = fitted_exponent(t.lengths, t.recomputed_seconds);
  return t;
}

// ---- (c), (d), (e): bytes, grouped heads, the window -----------------------------------------------------

struct CacheSize {
  std::size_t kv_heads = 0;
  double bytes = 0;  // as allocated by make_kv_cache
};

struct Grouped {
  std::vector<CacheSize> sizes;  // every G dividing H, H first
  TrainingRun full, grouped;     // G = H and G = --kv-heads, same seed, same batches
  double cached_error = 0;       // the grouped model's cached logits against its recomputation
  double scale = 0;
};

struct SlidingWindow {
  std::size_t W = 0, T = 0;
  std::vector<std::size_t> prefills;  // a few P, before and after the ring wraps
  std::vector<double> errors;         // max |ring-buffer cache − band-masked recomputation|
  double scale = 0;
  double changed = 0;  // max |band-masked − full causal| logits: the window changes the model
  double ring_bytes = 0, full_bytes = 0;
  std::size_t reach_from = 0;  // the first position whose token moves the last position's logits
};

struct Example {
  RunConfig config;
  Corpus corpus;
  Vocabulary vocab;
  Text text;
  std::vector<std::size_t> context;  // the first held-out n_ctx characters
  std::vector<double> rerun_losses;  // the first steps trained again
  CacheCheck cache;
  Timing timing;
  double parameter_bytes = 0, cache_bytes = 0, timing_cache_bytes = 0, timing_parameter_bytes = 0;
  double unigram_bits = 0;  // on the characters the models predict
  Grouped grouped;
  SlidingWindow window;
  std::string sample_cached, sample_recomputed, prompt;
};

SlidingWindow check_window(const TinyGpt& model, const std::vector<std::size_t>& ids, std::size_t W) {
  SlidingWindow w;
  w.W = W;
  w.T = ids.size();
  const Matrix band = recompute_logits(model, ids, W);
  w.scale = xt::amax(xt::abs(band))();
  for (std::size_t P : {std::size_t{0}, W / 2, W, w.T / 2, w.T}) {
    if (!w.prefills.empty() && P <= w.prefills.back()) continue;
    w.prefills.push_back(P);
    w.errors.push_back(max_abs_diff(cached_logits(model, ids, P, W), band));
  }
  w.changed = max_abs_diff(band, recompute_logits(model, ids));
  // how far back the last position reaches through the stacked windows: change one token at a time
  w.reach_from = w.T;
  for (std::size_t j = w.T; j-- > 0;) {
    std::vector<std::size_t> other = ids;
    other[j] = (ids[j] + 1) % model.config.vocab;
    const Matrix moved = recompute_logits(model, other, W);
    if (max_abs_diff(Matrix(xt::view(moved, w.T - 1, xt::newaxis(), xt::all())),
                     Matrix(xt::view(band, w.T - 1, xt::newaxis(), xt::all()))) > 0.0)
      w.reach_from = j;
  }
  w.ring_bytes = make_kv_cache(model, W).bytes();
  w.full_bytes = make_kv_cache(model).bytes();
  return w;
}

Example compute(const Options& opt, const std::vector<Poem>& poems) {
  Example e;
  e.corpus = split_poems(poems);
  e.vocab = make_vocabulary(poems);
  e.config = run_config(opt, e.vocab.size());
  const TinyGptConfig& mc = e.config.model;
  const std::size_t newline = e.vocab.ids.at(U'\n');
  e.text.train_ids = e.vocab.encode(e.corpus.train);
  e.text.held_ids = e.vocab.encode(e.corpus.held_out);
  e.text.train_starts = line_starts(e.text.train_ids, newline);
  e.text.held_windows = evaluation_windows(e.text.held_ids, newline, mc.n_ctx);
  e.context.assign(e.text.held_ids.begin(), e.text.held_ids.begin() + mc.n_ctx);
  const std::size_t H = mc.n_heads, G = static_cast<std::size_t>(opt.kv_heads);
  // 1. train G = H (chapter 16's model) and G = --kv-heads from the same seed; the first steps again
  Grouped& g = e.grouped;
  g.full = train(e.config, H, opt.common.seed, e.text, e.config.steps);
  g.grouped = train(e.config, G, opt.common.seed, e.text, e.config.steps);
  e.rerun_losses =
      train(e.config, H, opt.common.seed, e.text, std::min<std::size_t>(2, e.config.steps)).losses;
  e.unigram_bits = unigram_bits(e.text.train_ids, e.text.held_ids, g.full.predicted, mc.vocab);
  const TinyGpt& model = g.full.model;
  // 2. (a) cached against recomputed, every prefill length
  e.cache = check_cache(model, e.context);
  // 3. (b) work per token, counted; timed unless --no-timing
  e.timing = measure_timing(e.config, opt.common.seed, !opt.no_timing);
  // 4. (c) bytes: the cache against the parameters, here and at the timing model's context
  e.parameter_bytes = 8.0 * static_cast<double>(g.full.parameters);
  e.cache_bytes = make_kv_cache(model).bytes();
  {
    Rng rng(opt.common.seed);
    const TinyGpt long_model = random_tiny_gpt(rng, e.timing.config);
    e.timing_parameter_bytes = 8.0 * static_cast<double>(parameter_count(long_model));
    e.timing_cache_bytes = make_kv_cache(long_model).bytes();
  }
  // 5. (d) the cache for every G dividing H; the grouped model's cache against its recomputation
  for (std::size_t k = H; k >= 1; --k)
    if (H % k == 0) g.sizes.push_back({k, make_kv_cache(group_kv_heads(model, k)).bytes()});
  const Matrix grouped_full = recompute_logits(g.grouped.model, e.context);
  g.scale = xt::amax(xt::abs(grouped_full))();
  g.cached_error = max_abs_diff(cached_logits(g.grouped.model, e.context, mc.n_ctx / 2), grouped_full);
  // 6. (e) the sliding window
  e.window = check_window(model, e.context, static_cast<std::size_t>(opt.window));
  // 7. (f) a sample with the cache, and chapter 16's generate from the same generator state
  SamplingOptions o;
  o.temperature = opt.temperature;
  o.top_k = static_cast<std::size_t>(opt.top_k);
  const std::vector<std::size_t> prompt(e.context.begin(), e.context.begin() + 1);
  Rng a(opt.common.seed + 2), b(opt.common.seed + 2);
  e.prompt = e.vocab.decode(prompt);
  e.sample_cached = e.vocab.decode(generate_cached(model, prompt, e.config.sample_chars, o, a));
  e.sample_recomputed = e.vocab.decode(generate(model, prompt, e.config.sample_chars, o, b));
  return e;
}

// ---- printing ------------------------------------------------------------------------------------------

std::string one_line(const std::string& text) {
  std::string out;
  for (char ch : text) out += ch == '\n' ? std::string(" / ") : std::string(1, ch);
  return out;
}

void show_training(const Example& e) {
  print_section("1. A TinyGPT trained on the spot (chapter 16's model and training step)");
  for (const TrainingRun* t : {&e.grouped.full, &e.grouped.grouped}) {
    fmt::print(
        "G = {} K/V head{}: loss {:.4f} -> {:.4f} nats over {} steps; held-out {:.4f} bits per character\n",
        t->kv_heads, t->kv_heads == 1 ? " " : "s", t->losses.front(), t->losses.back(), t->losses.size(),
        t->held_out_bits);
  }
  fmt::print("a unigram (add-0.5 counts of the training poems), on the same characters: {:.4f} bits\n",
             e.unigram_bits);
  const double gap = e.unigram_bits - e.grouped.full.held_out_bits;
  if (gap < 0.5)
    fmt::print(
        "after {} steps the models are within {:.2f} bits of it: they predict by frequency, hardly by\n"
        "context, so their difference cannot show what sharing K/V heads costs\n",
        e.grouped.full.losses.size(), std::abs(gap));
  else
    fmt::print("after {} steps the G = {} model is {:.2f} bits per character below it\n",
               e.grouped.full.losses.size(), e.grouped.full.kv_heads, gap);
  fmt::print("(quality is not the point here: every section below measures the G = {} model)\n",
             e.grouped.full.kv_heads);
}

void show_cache(const Example& e) {
  const CacheCheck& c = e.cache;
  print_section("2. A KV cache: prefill P tokens, then decode the rest one at a time");
  fmt::print("the first {} held-out characters; chapter 16's full forward gives logits (T, V) = ({}, {})\n",
             c.T, c.T, e.vocab.size());
  fmt::print("max |cached − recomputed| over the logits, for each prefill length P:\n");
  for (std::size_t k = 0; k < c.prefills.size(); k += 4) {
    std::string row;
    for (std::size_t i = k; i < std::min(k + 4, c.prefills.size()); ++i)
      row += fmt::format("  P = {:>2}: {:.1e}", c.prefills[i], c.errors[i]);
    fmt::print("{}\n", row);
  }
  fmt::print("(the logits are up to {:.1f} in size)\n", c.scale);
  fmt::print("decode_step from an empty cache: {} tokens, the whole context; token {} refused:\n  {}\n",
             c.decoded, c.decoded + 1, c.refused);
}

std::string seconds_text(double s) {
  return s < 1e-3 ? fmt::format("{:.1f} µs", s * 1e6) : fmt::format("{:.2f} ms", s * 1e3);
}

void show_timing(const Example& e) {
  const Timing& t = e.timing;
  print_section("3. Work per generated token against the context length n");
  fmt::print(
      "a TinyGPT of the same sizes with n_ctx = {} (random weights); multiply-adds per token, counted:\n",
      t.config.n_ctx);
  fmt::print("{:>6}  {:>12}  {:>14}  {:>7}\n", "n", "cached", "recomputed", "ratio");
  for (std::size_t k = 0; k < t.lengths.size(); ++k) {
    fmt::print("{:>6}  {:>12.0f}  {:>14.0f}  {:>6.1f}x\n", t.lengths[k], t.cached_work[k],
               t.recomputed_work[k], t.recomputed_work[k] / t.cached_work[k]);
  }
  const TinyGptConfig& c = t.config;
  const double attention = 2.0 * c.d_model * c.n_layers * t.lengths.back(), head = 1.0 * c.vocab * c.d_model;
  fmt::print("fitted exponents of work ∝ n^a: cached {:.2f}, recomputed {:.2f}\n", t.cached_work_exponent,
             t.recomputed_work_exponent);
  fmt::print(
      "cached: attention's 2·E·n per block is {:.0f}% of the work at n = {}; the head alone (V·E = {:.0f}) "
      "is\n"
      "  {:.0f}%, and it, the projections and the feed-forward cost the same at every n: exponent below 1\n",
      100.0 * attention / t.cached_work.back(), t.lengths.back(), head, 100.0 * head / t.cached_work.back());
  fmt::print(
      "recomputed: n·(4E² + 2E·F) grows like n, attention's 2E·n² like n², and overtakes it from\n"
      "  n = (4E² + 2E·F) / 2E = {:.0f} on: the exponent is on its way from 1 to 2\n",
      (4.0 * c.d_model * c.d_model + 2.0 * c.d_model * c.d_ff) / (2.0 * c.d_model));
  if (!t.timed) {
    fmt::print("timings: left out (--no-timing)\n");
    return;
  }
  fmt::print("measured, median of {} rounds taken in turn (this run; timings vary):\n", t.rounds);
  fmt::print("{:>6}  {:>12}  {:>14}  {:>7}\n", "n", "cached", "recomputed", "ratio");
  for (std::size_t k = 0; k < t.lengths.size(); ++k) {
    fmt::print("{:>6}  {:>12}  {:>14}  {:>6.1f}x\n", t.lengths[k], seconds_text(t.cached_seconds[k]),
               seconds_text(t.recomputed_seconds[k]), t.recomputed_seconds[k] / t.cached_seconds[k]);
  }
  fmt::print("fitted exponents of time ∝ n^a: cached {:.2f}, recomputed {:.2f}\n", t.cached_exponent,
             t.recomputed_exponent);
}

void show_bytes(const Example& e) {
  print_section("4. The cache's bytes against the parameters' (float64)");
  const TinyGptConfig& m = e.config.model;
  const std::size_t d_k = m.d_model / m.n_heads;
  const std::size_t numbers = 2 * m.n_layers * m.n_heads * d_k;
  fmt::print("per token: 2 (K and V) · {} blocks · G·d_k ({} · {}) = {} numbers of 8 bytes = {}\n",
             m.n_layers, m.n_heads, d_k, numbers, format_bytes(8.0 * static_cast<double>(numbers)));
  fmt::print("trained model, n_ctx = {:>4}: cache {:>10}, parameters {:>10} ({:.1f}%)\n", m.n_ctx,
             format_bytes(e.cache_bytes), format_bytes(e.parameter_bytes),
             100.0 * e.cache_bytes / e.parameter_bytes);
  fmt::print("timing model,  n_ctx = {:>4}: cache {:>10}, parameters {:>10} ({:.1f}%)\n",
             e.timing.config.n_ctx, format_bytes(e.timing_cache_bytes),
             format_bytes(e.timing_parameter_bytes), 100.0 * e.timing_cache_bytes / e.timing_parameter_bytes);
  fmt::print(
      "(per sequence: a batch of B sequences holds B caches; most parameters here are the {} x {}\n"
      " embedding and head, which a cache never grows into)\n",
      m.vocab, m.d_model);
}

void show_grouped(const Example& e) {
  const Grouped& g = e.grouped;
  const std::size_t H = e.config.model.n_heads;
  print_section("5. Grouped-query attention: H query heads share G K/V heads");
  for (const CacheSize& s : g.sizes) {
    fmt::print("G = {} {:<16} cache {:>10}  (G = H's / {:.0f}, H/G = {})\n", s.kv_heads,
               s.kv_heads == H   ? "(multi-head):"
               : s.kv_heads == 1 ? "(multi-query):"
                                 : "(grouped-query):",
               format_bytes(s.bytes), g.sizes.front().bytes / s.bytes, H / s.kv_heads);
  }
  fmt::print("trained {} steps from the same seed on the same batches (held-out bits per character):\n",
             g.full.losses.size());
  fmt::print("  G = {}: {:.4f} bits, {} parameters\n", g.full.kv_heads, g.full.held_out_bits,
             g.full.parameters);
  fmt::print("  G = {}: {:.4f} bits, {} parameters\n", g.grouped.kv_heads, g.grouped.held_out_bits,
             g.grouped.parameters);
  fmt::print("G = {} model, cached (prefill {}) against recomputed: max error {:.1e}\n", g.grouped.kv_heads,
             e.config.model.n_ctx / 2, g.cached_error);
  // what one decoded token reads from memory with a full cache: every parameter once, and the cache
  fmt::print("bytes read per decoded token with a full cache (n = {}): every parameter once, and the cache\n",
             e.config.model.n_ctx);
  std::vector<double> parameters, cache;  // G = H, then G = --kv-heads
  for (const TrainingRun* t : {&g.full, &g.grouped}) {
    parameters.push_back(8.0 * static_cast<double>(t->parameters));
    cache.push_back(0.0);
    for (const CacheSize& s : g.sizes)
      if (s.kv_heads == t->kv_heads) cache.back() = s.bytes;
    fmt::print("  G = {}: parameters {:>8.1f} KiB + cache {:>5.1f} KiB = {:>8.1f} KiB\n", t->kv_heads,
               parameters.back() / 1024.0, cache.back() / 1024.0,
               (parameters.back() + cache.back()) / 1024.0);
  }
  const double read = parameters[0] + cache[0];
  fmt::print(
      "G = {} reads {:.1f}% fewer bytes per token than G = {}: {:.1f}% from the cache, {:.1f}% from the "
      "K/V weights\n",
      g.grouped.kv_heads, 100.0 * (read - parameters[1] - cache[1]) / read, g.full.kv_heads,
      100.0 * (cache[0] - cache[1]) / read, 100.0 * (parameters[0] - parameters[1]) / read);
}

void show_window(const Example& e) {
  const SlidingWindow& w = e.window;
  print_section(fmt::format("6. A sliding window of W = {}: the cache as a ring buffer", w.W));
  fmt::print("position p goes to slot p mod {}; each query sees its last {} positions\n", w.W, w.W);
  fmt::print("max |ring-buffer cache − band-masked recomputation| over T = {} tokens:\n", w.T);
  for (std::size_t k = 0; k < w.prefills.size(); ++k)
    fmt::print("  prefill P = {:>2}: {:.1e}\n", w.prefills[k], w.errors[k]);
  fmt::print(
      "cache {} instead of {}; the window changes the logits by up to {:.2f} (a different model:\n"
      " it was trained to see {} positions)\n",
      format_bytes(w.ring_bytes), format_bytes(w.full_bytes), w.changed, e.config.model.n_ctx);
  fmt::print(
      "the last position ({}) sees {} positions per block, yet changing the token at any position from {}\n"
      "on moves its logits, and at any position before {} leaves them equal to the bit: {} blocks reach\n"
      "{} positions back, L·(W − 1) + 1\n",
      w.T - 1, w.W, w.reach_from, w.reach_from, e.config.model.n_layers, w.T - w.reach_from);
}

void show_sample(const Example& e, const Options& opt) {
  print_section(fmt::format("7. A sample with the cache: {} characters after 「{}」 (line breaks shown as /)",
                            e.config.sample_chars, e.prompt));
  fmt::print("temperature {:g}, top-k {}:\n  {}\n", opt.temperature, opt.top_k, one_line(e.sample_cached));
  fmt::print("chapter 16's generate (recomputing), same seed: {}\n",
             e.sample_cached == e.sample_recomputed ? "the same text" : "different text");
}

void draw(const Example& e, Figures& figures) {
  const Timing& t = e.timing;
  std::vector<double> n;
  for (std::size_t x : t.lengths) n.push_back(static_cast<double>(x));
  figures.line_plot(
      "17-work-per-token.svg", n,
      {{"recomputed (chapter 16's generate)", t.recomputed_work}, {"KV cache (decode_step)", t.cached_work}},
      {"Multiply-adds per generated token", "context length n", "multiply-adds (counted)", true, true});
  // the cache's bytes against the context length for every G, and with the window
  const TinyGptConfig& m = e.config.model;
  std::vector<double> x;
  std::vector<Series> series;
  for (std::size_t ctx = 32; ctx <= 4096; ctx *= 2) x.push_back(static_cast<double>(ctx));
  const double per_head = 2.0 * m.n_layers * (m.d_model / m.n_heads) * 8.0;
  for (const CacheSize& s : e.grouped.sizes) {
    Series line{fmt::format("G = {}", s.kv_heads), {}};
    for (double ctx : x) line.y.push_back(per_head * s.kv_heads * ctx);
    series.push_back(line);
  }
  Series ring{fmt::format("G = {}, window W = {}", m.n_heads, e.window.W), {}};
  for (double ctx : x)
    ring.y.push_back(per_head * m.n_heads * std::min(ctx, static_cast<double>(e.window.W)));
  series.push_back(ring);
  Series params{"the parameters (n_ctx = 32)", {}};
  for (std::size_t i = 0; i < x.size(); ++i) params.y.push_back(e.parameter_bytes);
  series.push_back(params);
  figures.line_plot("17-cache-bytes.svg", x, series,
                    {"KV cache of one sequence (float64)", "context length", "bytes", true, true});
}

SelfChecks self_checks(const Example& e) {
  print_section("Self-checks");
  SelfChecks checks;
  const CacheCheck& c = e.cache;
  checks.close("cached logits equal recomputed ones for every prefill length 0..T (relative)",
               *std::max_element(c.errors.begin(), c.errors.end()) / std::max(1.0, c.scale), 1e-12);
  checks.expect("a full cache refuses token n_ctx + 1", c.decoded == c.T && !c.refused.empty(),
                fmt::format("{} decoded, then refused", c.decoded));
  const Grouped& g = e.grouped;
  bool ratios = true;
  for (const CacheSize& s : g.sizes)
    ratios = ratios && s.bytes * static_cast<double>(e.config.model.n_heads) ==
                           g.sizes.front().bytes * static_cast<double>(s.kv_heads);
  checks.expect("the cache shrinks by H/G with G K/V heads", ratios);
  checks.close("grouped model: cached logits equal recomputed ones (relative)",
               g.cached_error / std::max(1.0, g.scale), 1e-12);
  const SlidingWindow& w = e.window;
  checks.close(fmt::format("ring buffer equals the band mask, the buffer wrapped {} time{} (relative)",
                           (w.T - 1) / w.W, (w.T - 1) / w.W == 1 ? "" : "s"),
               *std::max_element(w.errors.begin(), w.errors.end()) / std::max(1.0, w.scale), 1e-12);
  checks.expect("the ring buffer holds W slots",
                w.ring_bytes * static_cast<double>(e.config.model.n_ctx) ==
                    w.full_bytes * static_cast<double>(std::min(w.W, e.config.model.n_ctx)));
  const std::size_t L = e.config.model.n_layers, reach = L * (w.W - 1) + 1;
  checks.expect("stacked windows: the last position reaches L·(W − 1) + 1 positions back",
                w.reach_from == (w.T > reach ? w.T - reach : 0),
                fmt::format("{} positions", w.T - w.reach_from));
  checks.expect("the cached sample is chapter 16's sample", e.sample_cached == e.sample_recomputed);
  const std::vector<double>& losses = g.full.losses;
  bool same = true;
  for (std::size_t i = 0; i < e.rerun_losses.size(); ++i) same = same && e.rerun_losses[i] == losses[i];
  checks.expect("the same seed gives the same losses, to the last bit", same,
                fmt::format("first {} steps trained twice", e.rerun_losses.size()));
  bool finite = std::isfinite(g.full.held_out_bits) && std::isfinite(g.grouped.held_out_bits);
  for (const TrainingRun* t : {&g.full, &g.grouped})
    for (double l : t->losses) finite = finite && std::isfinite(l);
  checks.expect("every loss is finite", finite);
  const Timing& t = e.timing;
  checks.expect("counted work: recomputation grows faster than the cache, by n^1 or more",
                t.recomputed_work_exponent > t.cached_work_exponent + 1.0,
                fmt::format("{:.2f} against {:.2f}", t.recomputed_work_exponent, t.cached_work_exponent));
  if (t.timed) {
    checks.expect("measured time: recomputation grows faster than the cache by n^0.5 or more",
                  t.recomputed_exponent > t.cached_exponent + 0.5,
                  fmt::format("{:.2f} against {:.2f}", t.recomputed_exponent, t.cached_exponent));
  }
  return checks;
}

// The sections of the default run, in order.
void show(const Example& e, const Options& opt) {
  show_training(e);
  show_cache(e);
  show_timing(e);
  show_bytes(e);
  show_grouped(e);
  show_window(e);
  show_sample(e, opt);
}

int run_default(const Options& opt) {
  const std::vector<Poem> poems = load_tang300(opt.data);
  const Vocabulary vocab = make_vocabulary(poems);
  const RunConfig r = run_config(opt, vocab.size());
  const TinyGptConfig& m = r.model;
  const Corpus corpus = split_poems(poems);
  require_text_for_windows(opt.data, corpus.train, {corpus.held_out.size()}, m.n_ctx);
  if (m.n_heads % static_cast<std::size_t>(opt.kv_heads) != 0)
    throw usage_error(
        fmt::format("--kv-heads {} does not divide the H = {} query heads", opt.kv_heads, m.n_heads));
  if (static_cast<std::size_t>(opt.window) > m.n_ctx)
    throw usage_error(fmt::format("--window {} is longer than the context n_ctx = {}", opt.window, m.n_ctx));
  require_within_limits(cost_of(r, corpus.held_out.size(), !opt.no_timing),
                        fmt::format("--train-steps {}", r.steps), Limits{memory_limit_bytes, 3 * work_limit});
  print_title("Chapter 17 · Fast generation");
  print_config("data", fmt::format("{} (Debian's fortunes-zh)", opt.data));
  print_config("model", fmt::format("TinyGPT: n_ctx = {}, E = {}, H = {}, F = {}, {} pre-norm blocks, V = {}",
                                    m.n_ctx, m.d_model, m.n_heads, m.d_ff, m.n_layers, m.vocab));
  print_config("training", fmt::format("{} steps of {} windows of {}, AdamW lr {:g}; G = {} beside G = {}",
                                       r.steps, r.batch, m.n_ctx, r.lr, m.n_heads, opt.kv_heads));
  print_config("window", fmt::format("W = {} (--window)", opt.window));
  print_config("seed", std::to_string(opt.common.seed));
  const Example e = compute(opt, poems);
  show(e, opt);
  Figures figures(opt.common);
  draw(e, figures);
  const SelfChecks checks = self_checks(e);
  figures.report();
  return checks.exit_code();
}

// ---- --load: PyTorch's TinyGPT files, decoded with the cache ----------------------------------------------

// A PyTorch TinyGPT's files (chapter 16's) to decode with the cache: the model, idx.npy (T,) and the
// P tokens of the prefill (--prefill; T / 2 if not given).
struct PromptFiles : GptPrompt {  // the model and idx.npy
  std::size_t P = 0;
};

PromptFiles load_prompt_files(const Options& opt) {
  const std::string& dir = opt.common.load_dir;
  PromptFiles f{load_gpt_prompt(dir, static_cast<std::size_t>(opt.heads)), 0};
  const TinyGptConfig& c = f.model.config;
  const std::size_t T = f.ids.size();
  f.P = opt.prefill < 0 ? T / 2 : static_cast<std::size_t>(opt.prefill);
  if (f.P > T) throw usage_error(fmt::format("--prefill {} is more than the {} tokens of idx.npy", f.P, T));
  // a chapter 16 directory serves as it is: its targets.npy is ignored here, and its outputs (loss.npy,
  // <key>.grad.npy) are allowed beside the inputs
  std::vector<std::string> outputs = tensor_names(named_tensors(f.model), ".grad");
  outputs.insert(outputs.end(), {"logits", "loss", "targets"});
  require_no_unread_files(dir, outputs, "a TinyGPT's files");
  require_within_limits({8.0 * T * (60.0 * c.d_ff * c.n_layers + 3.0 * c.vocab),
                         3.0 * T * recomputed_token_multiply_adds(c, T)},
                        "the --load files");
  return f;
}

// The logits of idx.npy from the cache (prefill of P tokens, then one token at a time), checked
// against chapter 16's full forward.
int run_loaded(const Options& opt) {
  if (opt.kv_heads_given || opt.window_given)
    throw usage_error(
        "--kv-heads and --window describe the trained model; PyTorch's TinyGPT has G = H, no window");
  const PromptFiles f = load_prompt_files(opt);
  const TinyGptConfig& c = f.model.config;
  const std::size_t T = f.ids.size();
  print_title("Chapter 17 · Fast generation — a PyTorch TinyGPT's files, decoded with a KV cache");
  print_config("loaded", fmt::format("{}: V = {}, n_ctx = {}, E = {}, H = {}, F = {}, {} block(s), T = {}",
                                     opt.common.load_dir, c.vocab, c.n_ctx, c.d_model, c.n_heads, c.d_ff,
                                     c.n_layers, T));
  print_config("decoding", fmt::format("prefill of P = {} tokens, then {} decode steps", f.P, T - f.P));
  const Matrix logits = cached_logits(f.model, f.ids, f.P);
  const Matrix full = tiny_gpt_forward(f.model, f.ids, T).logits;
  print_section("logits (T, V), from the cache");
  report_results({shown_matrix("logits", logits, "logits")}, opt.common.save_dir);
  print_section("Self-checks");
  SelfChecks checks;
  const double scale = std::max(1.0, static_cast<double>(xt::amax(xt::abs(full))()));
  checks.below("cached logits equal chapter 16's full forward (relative)", max_abs_diff(logits, full) / scale,
               1e-12);
  return checks.exit_code();
}

int run(const Options& opt) {
  return run_training_program(opt, opt.heads_given || opt.prefill >= 0,
                              "--heads and --prefill describe --load files; give --load DIR too", run_loaded,
                              run_default);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 17: Fast generation", "ch17_fast_generation"};
  Options opt;
  add_size_option(app, "--train-steps", opt.train_steps,
                  "Training steps of each model (about 70 fit the limits)", 1000000);
  add_size_option(app, "--kv-heads", opt.kv_heads, "K/V heads G of the model trained beside G = H = 4", 4096);
  add_size_option(app, "--window", opt.window, "Sliding window W, at most n_ctx = 32", 4096);
  add_sampling_options(app, opt.temperature, opt.top_k);
  app.add_flag("--no-timing", opt.no_timing, "Leave the timings out (their numbers change from run to run)");
  app.add_option("--data", opt.data, "The poems (default Debian's fortunes-zh tang300)");
  add_size_option(app, "--heads", opt.heads, "Heads H of the --load files", 4096);
  app.add_option("--prefill", opt.prefill,
                 "Tokens P prefilled at once with --load (0 <= P <= T; default T/2)")
      ->check(whole_number_in(0, 1 << 30));
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] {
    opt.heads_given = app.count("--heads") > 0;
    opt.kv_heads_given = app.count("--kv-heads") > 0;
    opt.window_given = app.count("--window") > 0;
    return run(opt);
  });
}

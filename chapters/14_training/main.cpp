// Chapter 14 — training: from a layer's gradient to a model that learns. A tiny encoder (embedding,
// learned positions, post-norm encoder layers, a linear read-out) is trained with AdamW to reverse a
// sequence of digits, which no model can do without attention: each output position must fetch the
// digit at the mirrored position. The program prints the loss curve, the accuracy on held-out
// sequences never trained on, the trained heads' attention, and the same model without positions
// against the best accuracy any model without positions can reach. With --load DIR, PyTorch's files:
// the encoder layer's gradients, its AdamW steps on an MSE loss, or the tiny encoder's first steps
// side by side with PyTorch's losses.
//
//   build/bin/ch14_training [--full] [--train-steps N] [--lr LR] [--weight-decay WD] [--seed S]
//                           [--svg DIR] [--no-color]
//   build/bin/ch14_training --load DIR [--heads H] [--norm-first] [--train-steps N] [--lr LR]
//                           [--weight-decay WD] [--save DIR]
//
// The program's shape: Options (the flags); compute_* fill named structs; show_* print them, draw()
// writes the figures (nothing without --svg), self_checks() checks every claim; run() calls them in
// that order. run_loaded() does the same for --load.
#include "11_transformer_block/given.hpp"  // load_encoder_layer
#include "14_training/given.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "files.hpp"  // read_text_file
#include "npy.hpp"
#include "print.hpp"
#include "results.hpp"
#include "rng.hpp"
#include "timing.hpp"  // seconds_since

#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  bool full = false;      // --full: the larger model, trained longer
  int train_steps = 400;  // --train-steps N (the default run's; --full and --load have their own)
  bool train_steps_given = false;
  double lr = 1e-3;            // --lr
  double weight_decay = 0.01;  // --weight-decay
  int heads = 2;               // --heads H (--load files only)
  bool heads_given = false;
  bool norm_first = false;  // --norm-first (--load files only)
};

// The two runs. The default one trains a small model for a few seconds; --full the larger one.
struct RunConfig {
  TinyEncoderConfig model;
  std::size_t batch = 32;    // sequences per step
  std::size_t steps = 0;     // training steps
  std::size_t held_out = 0;  // held-out sequences, never trained on
  std::size_t report_every = 0;
};

RunConfig run_config(const Options& opt) {
  //                 vocab, seq_len, d_model, n_heads, d_ff, n_layers
  const TinyEncoderConfig full{10, 16, 32, 2, 64, 2}, small{10, 6, 16, 2, 32, 1};
  RunConfig r;
  r.model = opt.full ? full : small;
  r.steps = opt.full ? 300 : 400;
  r.held_out = 500;
  if (opt.train_steps_given) r.steps = static_cast<std::size_t>(opt.train_steps);
  r.report_every = std::max<std::size_t>(1, r.steps / 10);
  return r;
}

// A training run's cost, in cli.hpp's units. training_step_multiply_adds counts a step's products;
// measured on this 2-core machine under load, a step took the time of 0.2 to 0.5 of those plain
// multiply-adds (most of them run inside OpenBLAS, and the rest is small allocations and loops), so
// a step counts as 0.5 of them. Two models are trained, and the held-out set is evaluated at 11
// reports (a forward pass: a third of a step per sequence).
constexpr double kOverhead = 0.5;
Cost cost_of(const Options& opt) {
  const RunConfig r = run_config(opt);
  const double step = kOverhead * training_step_multiply_adds(r.model, r.batch);
  const double evals = 11.0 * static_cast<double>(r.held_out) / static_cast<double>(r.batch) / 3.0;
  const double work = 2.0 * (static_cast<double>(r.steps) + evals) * step;
  // memory: the activations of one batch, a few dozen (B·L, max(E, F)) matrices, and the held-out set
  const double rows = static_cast<double>(std::max(r.batch, r.held_out) * r.model.seq_len);
  return {8.0 * rows * (40.0 * r.model.d_ff + r.model.vocab) * r.model.n_layers, work};
}
// --full may take up to about two minutes (the documented full run), like a benchmark.
constexpr Limits kFullLimits{memory_limit_bytes, 40 * work_limit};

// ---- the task: reverse a sequence of digits ---------------------------------------------------------

using Sequence = std::vector<std::size_t>;

Sequence random_sequence(Rng& rng, std::size_t L, std::size_t vocab) {
  Sequence s(L);
  for (std::size_t& d : s) d = rng.below(vocab);
  return s;
}

// inputs: the sequences one after the other; targets: each one reversed
Batch reversal_batch(const std::vector<Sequence>& sequences) {
  Batch b;
  for (const Sequence& s : sequences) {
    b.inputs.insert(b.inputs.end(), s.begin(), s.end());
    b.targets.insert(b.targets.end(), s.rbegin(), s.rend());
  }
  return b;
}

// "3 1 4 1 5 9"
std::string digits_text(const Sequence& s) {
  return fmt::format("{}", fmt::join(s, " "));
}

// ---- training -----------------------------------------------------------------------------------------

struct TrainingRun {
  std::vector<double> losses;              // before each step
  std::vector<std::size_t> report_steps;   // steps at which the held-out set was evaluated
  std::vector<double> held_out_token_acc;  // per token, at those steps
  Accuracy final_accuracy;                 // on the held-out set after the last step
  TinyEncoder model;                       // trained
  std::size_t parameters = 0;
  double seconds = 0;
};

Accuracy evaluate(const TinyEncoder& model, const Batch& held_out) {
  const TinyEncoderForward f = tiny_encoder_forward(model, held_out.inputs);
  return accuracy(argmax_rows(f.logits), held_out.targets, model.config.seq_len);
}

// Trains from `seed`: the initial weights first, then every batch, from one Rng stream. A batch's
// sequences that are in the held-out set are drawn again.
TrainingRun train(const RunConfig& r, const TinyEncoderConfig& model_config, const AdamWOptions& adamw,
                  std::uint64_t seed, const std::set<Sequence>& held_out_set, const Batch& held_out,
                  std::size_t steps) {
  Rng rng(seed);
  TrainingRun t;
  t.model = random_tiny_encoder(rng, model_config);
  t.parameters = parameter_count(t.model);
  AdamW optimizer(adamw);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t step = 0; step < steps; ++step) {
    std::vector<Sequence> sequences;
    while (sequences.size() < r.batch) {
      Sequence s = random_sequence(rng, model_config.seq_len, model_config.vocab);
      if (held_out_set.count(s) == 0) sequences.push_back(std::move(s));
    }
    if (step % r.report_every == 0) {
      t.report_steps.push_back(step);
      t.held_out_token_acc.push_back(evaluate(t.model, held_out).per_token());
    }
    t.losses.push_back(train_step(t.model, optimizer, reversal_batch(sequences)));
  }
  t.report_steps.push_back(steps);
  t.final_accuracy = evaluate(t.model, held_out);
  t.held_out_token_acc.push_back(t.final_accuracy.per_token());
  t.seconds = seconds_since(start);
  return t;
}

// ---- the best any model without positions can do ------------------------------------------------------

// Without positions, self-attention is permutation-equivariant (chapter 03): the output at position i
// is a function of its own token x_i and the multiset M of all tokens, never of i. The target at i is
// x_{L−1−i}, which — over all orderings of M with x_i in place — is a uniform draw from M with one
// x_i taken out. So the best guess is the most common digit of M \ {x_i}, right with probability
// max_b count_b(M \ {x_i}) / (L − 1), and the best per-token accuracy is the mean of that over all
// sequences: computed exactly here over the multisets of L digits (C(L + 9, 9) of them), each with
// its multinomial probability. (For even L; for odd L the middle position is its own mirror.)
double best_accuracy_without_positions(std::size_t L, std::size_t vocab) {
  std::vector<std::size_t> counts(vocab, 0);
  double total = 0.0;
  std::vector<double> factorial(L + 1, 1.0);
  for (std::size_t i = 1; i <= L; ++i) factorial[i] = factorial[i - 1] * static_cast<double>(i);
  const double sequences = std::pow(static_cast<double>(vocab), static_cast<double>(L));
  // each multiset: counts[0..vocab) summing to L
  const std::function<void(std::size_t, std::size_t)> visit = [&](std::size_t digit, std::size_t left) {
    if (digit + 1 == vocab) {
      counts[digit] = left;
      double orderings = factorial[L];
      for (std::size_t c : counts) orderings /= factorial[c];
      double right = 0.0;  // Σ over positions' own digit a of count_a · max_b count_b(M \ {a})
      for (std::size_t a = 0; a < vocab; ++a) {
        if (counts[a] == 0) continue;
        --counts[a];
        std::size_t best = 0;
        for (std::size_t c : counts) best = std::max(best, c);
        ++counts[a];
        right += static_cast<double>(counts[a]) * static_cast<double>(best) / static_cast<double>(L - 1);
      }
      total += orderings / sequences * right / static_cast<double>(L);
      return;
    }
    for (std::size_t c = 0; c <= left; ++c) {
      counts[digit] = c;
      visit(digit + 1, left - c);
    }
  };
  visit(0, L);
  return total;
}

// ---- the whole default run ------------------------------------------------------------------------------

struct Example {
  RunConfig config;
  AdamWOptions adamw;
  std::vector<Sequence> held_out;  // never trained on
  TrainingRun with_positions, without_positions;
  double best_without_positions = 0;  // the bound above
  // the trained heads on the first held-out sequence: weights[layer] is (H, L, L)
  Sequence example;
  std::vector<Tensor3> maps;
  // the mean weight each head puts on the mirrored position L − 1 − i, over the held-out set
  std::vector<std::vector<double>> mirror_weight;  // [layer][head]
  // determinism: the first steps trained again from the same seed
  std::vector<double> rerun_losses;
};

Example compute(const Options& opt) {
  Example e;
  e.config = run_config(opt);
  e.adamw = AdamWOptions{opt.lr, 0.9, 0.999, 1e-8, opt.weight_decay};
  const TinyEncoderConfig& mc = e.config.model;
  // 1. the held-out sequences, distinct, from their own stream
  Rng held_rng(opt.common.seed + 1);
  std::set<Sequence> held_set;
  while (e.held_out.size() < e.config.held_out) {
    Sequence s = random_sequence(held_rng, mc.seq_len, mc.vocab);
    if (held_set.insert(s).second) e.held_out.push_back(std::move(s));
  }
  const Batch held = reversal_batch(e.held_out);
  // 2. train with and without positions, from the same seed
  e.with_positions = train(e.config, mc, e.adamw, opt.common.seed, held_set, held, e.config.steps);
  TinyEncoderConfig no_pos = mc;
  no_pos.positions = false;
  e.without_positions = train(e.config, no_pos, e.adamw, opt.common.seed, held_set, held, e.config.steps);
  e.best_without_positions = best_accuracy_without_positions(mc.seq_len, mc.vocab);
  // 3. the trained heads: one example, and the mirror weight over the whole held-out set
  e.example = e.held_out[0];
  const TinyEncoderForward f = tiny_encoder_forward(e.with_positions.model, held.inputs);
  const std::size_t L = mc.seq_len;
  for (const EncoderLayerForward& layer : f.layers) {
    const Tensor4& p = layer.saved.attention.weights;  // (B, H, L, L)
    e.maps.push_back(xt::view(p, 0, xt::all(), xt::all(), xt::all()));
    std::vector<double> mirror(mc.n_heads, 0.0);
    for (std::size_t b = 0; b < p.shape(0); ++b)
      for (std::size_t h = 0; h < mc.n_heads; ++h)
        for (std::size_t i = 0; i < L; ++i) mirror[h] += p(b, h, i, L - 1 - i);
    for (double& m : mirror) m /= static_cast<double>(p.shape(0) * L);
    e.mirror_weight.push_back(mirror);
  }
  // 4. the first steps again, from the same seed: the same bits
  const std::size_t again = std::min<std::size_t>(5, e.config.steps);
  e.rerun_losses = train(e.config, mc, e.adamw, opt.common.seed, held_set, held, again).losses;
  return e;
}

std::string percent(double x) {
  return fmt::format("{:.1f}%", 100.0 * x);
}

void show_training(const Example& e) {
  print_section("1. Training with learned positions: the loss before each step, the held-out accuracy");
  const TrainingRun& t = e.with_positions;
  fmt::print("{:>6}  {:>8}  {:>18}\n", "step", "loss", "held-out per token");
  for (std::size_t k = 0; k < t.report_steps.size(); ++k) {
    const std::size_t s = t.report_steps[k];
    const std::string loss = s < t.losses.size() ? fmt::format("{:.4f}", t.losses[s]) : "";
    fmt::print("{:>6}  {:>8}  {:>18}\n", s, loss, percent(t.held_out_token_acc[k]));
  }
  fmt::print("chance: loss ln 10 = {:.4f}, accuracy 10%\n", std::log(10.0));
  print_section("2. Held-out accuracy (sequences never trained on)");
  const Accuracy& a = t.final_accuracy;
  fmt::print("per token:    {} of {} = {}\n", a.tokens_right, a.tokens, percent(a.per_token()));
  fmt::print("per sequence: {} of {} = {} (all {} digits right)\n", a.sequences_right, a.sequences,
             percent(a.per_sequence()), e.config.model.seq_len);
}

void show_maps(const Example& e) {
  print_section(
      fmt::format("3. What the heads learned, on the held-out sequence {}", digits_text(e.example)));
  const std::size_t L = e.config.model.seq_len;
  Labels rows, cols;
  for (std::size_t i = 0; i < L; ++i) {
    rows.push_back(fmt::format("{}:{}", i, e.example[i]));
    cols.push_back(fmt::format("{}:{}", i, e.example[i]));
  }
  for (std::size_t l = 0; l < e.maps.size(); ++l) {
    for (std::size_t h = 0; h < e.config.model.n_heads; ++h) {
      const Matrix w = xt::view(e.maps[l], h, xt::all(), xt::all());
      print_heatmap(fmt::format("layer {} head {}: query position:digit (rows), key (columns)", l, h), w,
                    rows, cols);
    }
  }
  fmt::print("mean weight on the mirrored position L − 1 − i, over the {} held-out sequences:\n",
             e.held_out.size());
  for (std::size_t l = 0; l < e.mirror_weight.size(); ++l)
    for (std::size_t h = 0; h < e.mirror_weight[l].size(); ++h)
      fmt::print("  layer {} head {}: {:.3f}   (uniform attention would give {:.3f})\n", l, h,
                 e.mirror_weight[l][h], 1.0 / static_cast<double>(L));
}

void show_without_positions(const Example& e) {
  print_section("4. The same model without positions, trained the same way");
  const TrainingRun& t = e.without_positions;
  fmt::print("loss: {:.4f} at step 0, {:.4f} at the last step ({} parameters; with positions {})\n",
             t.losses.front(), t.losses.back(), t.parameters, e.with_positions.parameters);
  fmt::print("held-out per token:    {} (with positions {})\n", percent(t.final_accuracy.per_token()),
             percent(e.with_positions.final_accuracy.per_token()));
  fmt::print("held-out per sequence: {} (with positions {})\n", percent(t.final_accuracy.per_sequence()),
             percent(e.with_positions.final_accuracy.per_sequence()));
  fmt::print(
      "the best any model without positions can reach, per token: {} — it sees each digit and the\n"
      "multiset of all of them, never where they stand (exact, over all {}-digit sequences)\n",
      percent(e.best_without_positions), e.config.model.seq_len);
}

void draw(const Example& e, Figures& figures) {
  std::vector<double> x;
  for (std::size_t s = 0; s < e.with_positions.losses.size(); ++s) x.push_back(static_cast<double>(s));
  figures.line_plot("14-loss.svg", x,
                    {{"with learned positions", e.with_positions.losses},
                     {"without positions", e.without_positions.losses}},
                    {"Cross-entropy while training to reverse digits", "step", "loss (nats)", false, false});
  const std::size_t L = e.config.model.seq_len;
  Labels labels;
  for (std::size_t i = 0; i < L; ++i) labels.push_back(fmt::format("{}:{}", i, e.example[i]));
  for (std::size_t l = 0; l < e.maps.size(); ++l) {
    for (std::size_t h = 0; h < e.config.model.n_heads; ++h) {
      const Matrix w = xt::view(e.maps[l], h, xt::all(), xt::all());
      figures.heatmap(
          fmt::format("14-attention-layer{}-head{}.svg", l, h), w,
          heatmap_spec(fmt::format("Trained layer {} head {} on {}", l, h, digits_text(e.example)), labels,
                       labels, "query position:digit", "key position:digit"));
    }
  }
}

SelfChecks self_checks(const Example& e, const Options& opt) {
  print_section("Self-checks");
  SelfChecks checks;
  const TrainingRun& t = e.with_positions;
  check_training_run(checks, e.rerun_losses, t.losses, {e.without_positions.losses});
  // what the default and --full runs claim (other --train-steps, --lr, --weight-decay train other runs)
  const bool defaults = !opt.train_steps_given && opt.lr == 1e-3 && opt.weight_decay == 0.01;
  if (defaults) {
    const double goal = 0.99;
    checks.expect(fmt::format("held-out per-token accuracy with positions >= {}", percent(goal)),
                  t.final_accuracy.per_token() >= goal, percent(t.final_accuracy.per_token()));
    // the bound holds for every model without positions; the held-out estimate has sampling noise,
    // 3 standard deviations of a per-sequence mean of the held-out set
    const double noise = 3.0 * 0.5 / std::sqrt(static_cast<double>(e.held_out.size()));
    checks.expect("without positions: no better than the bound (+ 3 sd of sampling noise)",
                  e.without_positions.final_accuracy.per_token() <= e.best_without_positions + noise,
                  fmt::format("{} <= {} + {}", percent(e.without_positions.final_accuracy.per_token()),
                              percent(e.best_without_positions), percent(noise)));
    checks.expect("the loss fell below half of chance (ln 10 / 2)", t.losses.back() < std::log(10.0) / 2.0,
                  fmt::format("{:.4f}", t.losses.back()));
  }
  return checks;
}

int run_default(const Options& opt) {
  const RunConfig r = run_config(opt);
  require_within_limits(cost_of(opt), fmt::format("{}--train-steps {}", opt.full ? "--full " : "", r.steps),
                        opt.full ? kFullLimits : chapter_limits);
  print_title("Chapter 14 · Training");
  const TinyEncoderConfig& m = r.model;
  print_config("task", fmt::format("reverse a sequence of {} digits; {} held-out sequences never trained on",
                                   m.seq_len, r.held_out));
  print_config("model",
               fmt::format("embedding + learned positions, {} post-norm encoder layer{} (E = {}, H = {}, "
                           "F = {}, ReLU), linear read-out",
                           m.n_layers, m.n_layers == 1 ? "" : "s", m.d_model, m.n_heads, m.d_ff));
  print_config("training",
               fmt::format("{} steps of {} sequences, cross-entropy, AdamW lr {:g}, betas (0.9, 0.999), "
                           "eps 1e-8, weight decay {:g}",
                           r.steps, r.batch, opt.lr, opt.weight_decay));
  print_config("seed", std::to_string(opt.common.seed));
  const Example e = compute(opt);
  show_training(e);
  show_maps(e);
  show_without_positions(e);
  Figures figures(opt.common);
  draw(e, figures);
  const SelfChecks checks = self_checks(e, opt);
  figures.report();
  return checks.exit_code();
}

// ---- --load: PyTorch's files ----------------------------------------------------------------------------

std::string sci(double x) {
  return fmt::format("{:.1e}", x);
}

// The flags of PyTorch's run that a --load directory records in args.txt (chapters/14_training/make_fixtures.py
// writes it; the interop tests pass it to this program), as "with --lr 0.003, without --norm-first"
// for each flag whose value differs from this run's; "" if they agree or there is no args.txt. losses.npy is PyTorch's
// losses for those flags only, so with other flags there is nothing to compare it with.
std::string flags_differing_from_args_txt(const std::string& dir, const Options& opt) {
  const std::string path = dir + "/args.txt";
  if (!std::filesystem::exists(path)) return "";
  const std::string text = read_text_file(path, "args.txt", 4096);
  for (const char c : text) {
    if ((c < ' ' || c > '~') && c != '\n' && c != '\t' && c != '\r')
      throw usage_error("args.txt is not a line of flags: it holds bytes that are not plain text");
  }
  std::istringstream words(text);
  Options recorded;  // a flag args.txt does not name has its default
  std::string flag, value;
  while (words >> flag) {
    if (flag == "--norm-first") {
      recorded.norm_first = true;
      continue;
    }
    if (!(words >> value)) throw usage_error(fmt::format("args.txt: {} has no value", shorten(flag, 40)));
    try {
      if (flag == "--heads") {
        recorded.heads = std::stoi(value);
      } else if (flag == "--lr") {
        recorded.lr = std::stod(value);
      } else if (flag == "--weight-decay") {
        recorded.weight_decay = std::stod(value);
      } else {
        throw usage_error(fmt::format("args.txt: {} is not a flag of these files", shorten(flag, 40)));
      }
    } catch (const std::logic_error&) {  // std::stoi and std::stod: not a number, or out of range
      throw usage_error(fmt::format("args.txt: {} {} is not a number", flag, shorten(value, 40)));
    }
  }
  const auto same = [](double a, double b) { return std::abs(a - b) <= 1e-12 * std::abs(b); };
  std::vector<std::string> differ;
  if (recorded.heads != opt.heads) differ.push_back(fmt::format("with --heads {}", recorded.heads));
  if (recorded.norm_first != opt.norm_first)
    differ.push_back(recorded.norm_first ? "with --norm-first" : "without --norm-first");
  if (!same(recorded.lr, opt.lr)) differ.push_back(fmt::format("with --lr {:g}", recorded.lr));
  if (!same(recorded.weight_decay, opt.weight_decay))
    differ.push_back(fmt::format("with --weight-decay {:g}", recorded.weight_decay));
  return fmt::format("{}", fmt::join(differ, ", "));
}

// The loss before each step, beside PyTorch's (expected) when `compare`; else why not compared.
void show_first_losses(const Vector& losses, const Vector& expected, bool compare,
                       const std::string& differ) {
  print_section("The loss before each step");
  if (compare) {
    // 12 decimals and the difference as a bound: the last bits depend on the BLAS kernel of the CPU
    fmt::print("{:>4}  {:>16}  {:>16}  {:>9}\n", "step", "C++", "PyTorch", "|diff|");
    for (std::size_t s = 0; s < losses.size(); ++s) {
      const double diff = std::abs(losses(s) - expected(s));
      fmt::print("{:>4}  {:>16.12f}  {:>16.12f}  {:>9}\n", s, losses(s), expected(s),
                 diff < 1e-12 ? "< 1e-12" : sci(diff));
    }
  } else {
    for (std::size_t s = 0; s < losses.size(); ++s) fmt::print("{:>4}  {:.15f}\n", s, losses(s));
    if (!differ.empty()) fmt::print("not compared with losses.npy: PyTorch made it {} (args.txt)\n", differ);
  }
}

// The files of the tiny encoder's first steps (fixture first_steps): the model, N steps of B sequences
// of L tokens (inputs.npy and targets.npy, (N, B, L) int64) and, if given, PyTorch's losses.
struct FirstStepsFiles {
  TinyEncoder model;         // not const: the steps train it
  std::size_t B = 0, L = 0;  // sequences per step, tokens per sequence
  std::vector<Batch> steps;  // N batches of B·L tokens
  Vector expected;           // losses.npy (N,), empty without it
  bool compare = false;      // losses.npy was made with this run's flags (args.txt)
  std::string differ;        // else how PyTorch's flags differ ("" without losses.npy)
};

FirstStepsFiles load_first_steps(const Options& opt) {
  const std::string& dir = opt.common.load_dir;
  if (opt.train_steps_given)
    throw usage_error("--train-steps: the number of steps comes from inputs.npy here");
  const NpyArray inputs = read_npy(dir + "/inputs.npy", "inputs.npy");
  const NpyArray targets = read_npy(dir + "/targets.npy", "targets.npy");
  if (inputs.descr != "<i8" || targets.descr != "<i8")
    throw usage_error("inputs.npy and targets.npy must be int64");
  if (inputs.shape.size() != 3)
    throw usage_error("inputs.npy must be (N, B, L): N steps of B sequences of L tokens");
  if (targets.shape != inputs.shape)
    throw usage_error("targets.npy must have the shape of inputs.npy (N, B, L)");
  FirstStepsFiles f;
  const std::size_t N = inputs.shape[0], B = inputs.shape[1], L = inputs.shape[2], n = B * L;
  f.B = B;
  f.L = L;
  f.model = load_tiny_encoder(dir, static_cast<std::size_t>(opt.heads), opt.norm_first, L);
  const TinyEncoderConfig& c = f.model.config;
  if (c.seq_len != L)
    throw usage_error(fmt::format("inputs.npy has sequences of {} but pos.npy has {} rows", L, c.seq_len));
  require_within_limits(
      {8.0 * n * 60.0 * c.d_ff * f.model.layers.size(), kOverhead * N * training_step_multiply_adds(c, B)},
      "the steps of inputs.npy");
  for (std::size_t i = 0; i < inputs.integers.size(); ++i) {
    if (inputs.integers[i] < 0 || inputs.integers[i] >= static_cast<std::int64_t>(c.vocab) ||
        targets.integers[i] < 0 || targets.integers[i] >= static_cast<std::int64_t>(c.vocab)) {
      throw usage_error(
          fmt::format("inputs.npy / targets.npy: entry {} is not a token id in [0, {})", i, c.vocab));
    }
  }
  for (std::size_t s = 0; s < N; ++s) {
    Batch b;
    for (std::size_t i = 0; i < n; ++i) {
      b.inputs.push_back(static_cast<std::size_t>(inputs.integers[s * n + i]));
      b.targets.push_back(static_cast<std::size_t>(targets.integers[s * n + i]));
    }
    f.steps.push_back(b);
  }
  // PyTorch's losses, if given (checked whatever the flags), compared if made with this run's flags
  if (npy_exists(dir, "losses")) {
    f.expected = load_vector(dir, "losses", "(N,)");
    require_shape("losses.npy", f.expected, {N}, "(N,) with the N of inputs.npy");
    f.differ = flags_differing_from_args_txt(dir, opt);
    f.compare = f.differ.empty();
  }
  std::vector<std::string> outputs = tensor_names(named_tensors(f.model));
  outputs.push_back("losses");
  require_no_unread_files(dir, outputs, "the tiny encoder's files");
  return f;
}

// The tiny encoder's first steps against PyTorch's losses: the loss before each AdamW step.
int run_first_steps(const Options& opt) {
  FirstStepsFiles f = load_first_steps(opt);
  const std::size_t N = f.steps.size();
  const TinyEncoderConfig& c = f.model.config;
  print_title("Chapter 14 · Training — the first steps against PyTorch");
  print_config("loaded", fmt::format("{}: V = {}, L = {}, E = {}, F = {}, {} layer(s), {}",
                                     opt.common.load_dir, c.vocab, f.L, c.d_model, c.d_ff,
                                     f.model.layers.size(), opt.norm_first ? "pre-norm" : "post-norm"));
  print_config("training", fmt::format("{} steps of {} sequences, AdamW lr {:g}, weight decay {:g}", N, f.B,
                                       opt.lr, opt.weight_decay));
  AdamW optimizer(AdamWOptions{opt.lr, 0.9, 0.999, 1e-8, opt.weight_decay});
  Vector losses = xt::zeros<double>({N});
  for (std::size_t s = 0; s < N; ++s) losses(s) = train_step(f.model, optimizer, f.steps[s]);
  std::vector<NamedResult> results = {
      named_result("losses", losses, [&] { show_first_losses(losses, f.expected, f.compare, f.differ); })};
  append_named(results, named_tensors(f.model));
  report_results(results, opt.common.save_dir);
  print_section("Self-checks");
  SelfChecks checks;
  if (f.compare) {
    // relative to the losses' size (about ln V)
    const double scale = std::max(1.0, std::abs(f.expected(0)));
    checks.below("every loss equals PyTorch's losses.npy", max_abs_diff(losses, f.expected) / scale, 1e-9);
  }
  checks.expect("every loss is finite", true);
  return checks.exit_code();
}

// The encoder layer of chapter 11 with grad_output.npy (gradients) or target.npy (AdamW on the MSE).
int run_encoder_layer(const Options& opt) {
  const std::string& dir = opt.common.load_dir;
  EncoderLayerWeights w = load_encoder_layer(dir);
  const Matrix src = load_matrix(dir, "src", "(L, E)");
  const bool gradients = npy_exists(dir, "grad_output"), training = npy_exists(dir, "target");
  if (gradients == training) {
    throw usage_error(
        fmt::format("{}: give grad_output.npy (gradients) or target.npy (training), exactly one", dir));
  }
  const std::size_t L = src.shape(0), E = src.shape(1), H = static_cast<std::size_t>(opt.heads);
  require_shape("src.npy", src, {L, w.self_attn.in_proj_weight.shape(1)}, "(L, E) with the E of the weights");
  if (E % H != 0) throw usage_error(fmt::format("--heads {} does not divide E = {}", H, E));
  if (gradients && opt.train_steps_given)
    throw usage_error("--train-steps needs target.npy, not grad_output.npy");
  const std::size_t steps =
      training ? static_cast<std::size_t>(opt.train_steps_given ? opt.train_steps : 10) : 1;
  const double F = static_cast<double>(w.linear1_weight.shape(0));
  const double layer_work = 3.0 * L * (4.0 * E * E + 2.0 * L * E + 2.0 * E * F);
  require_within_limits({8.0 * L * (30.0 * (E + F) + 3.0 * L * H), kOverhead * steps * layer_work},
                        fmt::format("--train-steps {} on ({}, {})", steps, L, E));
  const BoolMatrix mask = xt::zeros<bool>({L, L});
  print_title("Chapter 14 · Training — a torch.nn.TransformerEncoderLayer's files");
  print_config("loaded",
               fmt::format("{}: L = {}, E = {}, F = {}, H = {}, {}", dir, L, E, w.linear1_weight.shape(0), H,
                           opt.norm_first ? "pre-norm" : "post-norm"));
  SelfChecks checks;
  if (gradients) {
    const Matrix grad_output = load_matrix(dir, "grad_output", "(L, E)");
    require_shape("grad_output.npy", grad_output, {L, E}, "(L, E), the output's shape");
    std::vector<std::string> outputs = tensor_names(named_tensors(w), ".grad");
    outputs.insert(outputs.end(), {"output", "src.grad"});
    require_no_unread_files(dir, outputs, "an encoder layer's files with grad_output.npy");
    const EncoderLayerForward f = encoder_layer_forward(src, L, w, H, opt.norm_first, Activation::relu, mask);
    EncoderLayerGradients g = encoder_layer_backward(f.saved, w, grad_output);
    print_section("The gradient of sum(output ⊙ grad_output)");
    std::vector<NamedResult> results = {
        named_result("output", f.output), named_result("src.grad", g.src, [&g] {
          print_matrix("src.grad (L, E)", g.src);
          fmt::print(
              "and the gradients of the twelve state_dict entries (--save DIR "
              "writes them as <key>.grad.npy)\n");
        })};
    append_named(results, named_tensors(g.weights), ".grad");
    report_results(results, opt.common.save_dir);
    print_section("Self-checks");
    // the forward is chapter 11's encoder_layer
    const Matrix reference = encoder_layer(src, w, H, opt.norm_first, mask);
    const double scale = std::max(1.0, xt::amax(xt::abs(reference))());
    checks.below("the forward equals chapter 11's encoder_layer", max_abs_diff(f.output, reference) / scale,
                 1e-12);
  } else {
    const Matrix target = load_matrix(dir, "target", "(L, E)");
    require_shape("target.npy", target, {L, E}, "(L, E), the output's shape");
    require_no_unread_files(dir, {"losses"}, "an encoder layer's files with target.npy");
    AdamW optimizer(AdamWOptions{opt.lr, 0.9, 0.999, 1e-8, opt.weight_decay});
    Vector losses = xt::zeros<double>({steps});
    for (std::size_t s = 0; s < steps; ++s) {
      const EncoderLayerForward f =
          encoder_layer_forward(src, L, w, H, opt.norm_first, Activation::relu, mask);
      const LossAndGradient loss = mse_loss(f.output, target);
      losses(s) = loss.loss;
      EncoderLayerGradients g = encoder_layer_backward(f.saved, w, loss.grad);
      optimizer.step(named_tensors(w), named_tensors(g.weights));
    }
    std::vector<NamedResult> results = {named_result("losses", losses, [&losses, steps] {
      print_section(fmt::format("mean((layer(src) − target)²) before each of {} AdamW steps", steps));
      for (std::size_t s = 0; s < steps; ++s) fmt::print("{:>5}  {:.12f}\n", s, losses(s));
    })};
    append_named(results, named_tensors(w));
    report_results(results, opt.common.save_dir);
    print_section("Self-checks");
    checks.expect("every loss is finite", true);
  }
  return checks.exit_code();
}

int run_loaded(const Options& opt) {
  if (opt.full) throw usage_error("--full trains the digit-reversal model; it does not go with --load");
  if (npy_exists(opt.common.load_dir, "tok.weight")) return run_first_steps(opt);
  return run_encoder_layer(opt);
}

int run(const Options& opt) {
  return run_training_program(
      opt, opt.heads_given || opt.norm_first,
      "--heads and --norm-first describe --load files; the trained model's sizes are fixed", run_loaded,
      run_default);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 14: Training", "ch14_training"};
  Options opt;
  app.add_flag("--full", opt.full,
               "Train the larger model (16 digits, 2 layers, E = 32) for 300 steps (about 20 s)");
  add_size_option(app, "--train-steps", opt.train_steps,
                  "Training steps (400; 300 with --full; 10 on --load target.npy)", 1000000);
  app.add_option("--lr", opt.lr, "AdamW's learning rate (default 1e-3)")
      ->check(finite_in(1e-12, 1.0, "a larger step throws the weights about"));
  app.add_option("--weight-decay", opt.weight_decay, "AdamW's decoupled weight decay (default 0.01)")
      ->check(finite_in(0.0, 100.0, "0 for none"));
  add_size_option(app, "--heads", opt.heads, "Heads H of the --load files", 4096);
  app.add_flag("--norm-first", opt.norm_first, "The --load files are a pre-norm layer (norm_first=True)");
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] {
    opt.heads_given = app.count("--heads") > 0;
    opt.train_steps_given = app.count("--train-steps") > 0;
    return run(opt);
  });
}

// Benchmark of chapter 14: one training step (forward, cross-entropy, backward, AdamW) of the tiny
// encoder, in C++ and in PyTorch 1.13 eager mode, side by side in one run (float64, one thread, same
// sizes, same batch, same optimizer).
//
//   build/bin/bench_14_training [--batch B] [--seq-len L] [--d-model E] [--heads H] [--d-ff F]
//                               [--layers N] [--rounds R] [--steps K] [--python PATH] [--script PATH]
//                               [--no-pytorch] [--default-malloc]
//
// Run it from the repository root (the PyTorch side is tools/bench_14_pytorch.py, started once with
// OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(1)). The two sides take turns, R rounds of K steps
// each, C++ first, so that both see the same load; the time per step is the median over the rounds.
// The C++ side's step is also split into its parts (forward, loss and backward, AdamW), each timed
// alone. Not a test: timings depend on the machine and its load. Compare the columns of one run.
#include "14_training/given.hpp"
#include "bench_util.hpp"
#include "cli.hpp"
#include "rng.hpp"

#include <fmt/format.h>

#include <chrono>
#include <memory>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int batch = 32, seq_len = 16, rounds = 9, steps = 20;
  bench::ModelSizes model{32, 2, 64, 2, 10};  // E, H, F, layers; V = 10 digits
  bench::PytorchSide pytorch{"/usr/bin/python3", "tools/bench_14_pytorch.py"};
  bool default_malloc = false;  // --default-malloc: skip keep_freed_memory(), to measure what it saves
};

TinyEncoderConfig config_of(const Options& opt) {
  TinyEncoderConfig c = bench::config_with<TinyEncoderConfig>(opt.model);
  c.seq_len = opt.seq_len;
  return c;
}

// The C++ side's work: R rounds of K steps, and the parts timed once more each, at a measured rate
// (0.5 multiply-adds' time per multiply-add training_step_multiply_adds counts: the program's kOverhead).
Cost cost_of(const Options& opt) {
  const double step = 0.5 * training_step_multiply_adds(config_of(opt), opt.batch);
  const double rows = static_cast<double>(opt.batch) * opt.seq_len;
  return {8.0 * rows * (40.0 * opt.model.d_ff + 10.0) * opt.model.layers,
          2.0 * opt.rounds * opt.steps * step};
}

// The PyTorch side: tools/bench_14_pytorch.py as a child process, with the model's sizes.
std::unique_ptr<bench::ChildProcess> start_pytorch(const Options& opt, const TinyEncoderConfig& c) {
  return bench::start_pytorch(opt.pytorch,
                              {std::to_string(c.vocab), std::to_string(c.seq_len), std::to_string(c.d_model),
                               std::to_string(c.n_heads), std::to_string(c.d_ff), std::to_string(c.n_layers),
                               std::to_string(opt.batch)},
                              "ready bench_14",
                              "run from the repository root, or give --python / --script, or --no-pytorch");
}

int run(const Options& opt) {
  // as the chapter program does (chapters/14_training/given.hpp says why), unless --default-malloc
  if (!opt.default_malloc) keep_freed_memory();
  const TinyEncoderConfig c = config_of(opt);
  require_within_limits(cost_of(opt), "these sizes", benchmark_limits);
  Rng rng(opt.common.seed);
  TinyEncoder model = random_tiny_encoder(rng, c);
  AdamW optimizer(AdamWOptions{});
  Batch batch;
  for (int b = 0; b < opt.batch; ++b) {
    std::vector<std::size_t> digits(c.seq_len);
    for (std::size_t& d : digits) d = rng.below(c.vocab);
    batch.inputs.insert(batch.inputs.end(), digits.begin(), digits.end());
    batch.targets.insert(batch.targets.end(), digits.rbegin(), digits.rend());
  }
  fmt::print(
      "one training step of the tiny encoder: B = {} sequences of L = {}, E = {}, H = {}, F = {}, {} "
      "layer(s), V = {}; {} parameters; float64, one thread\n",
      opt.batch, c.seq_len, c.d_model, c.n_heads, c.d_ff, c.n_layers, c.vocab, parameter_count(model));
  for (int i = 0; i < 10; ++i) train_step(model, optimizer, batch);  // warm-up, as the PyTorch side
  const std::unique_ptr<bench::ChildProcess> pytorch = start_pytorch(opt, c);
  std::vector<double> cpp, torch, forward, backward, adamw;
  for (int r = 0; r < opt.rounds; ++r) {
    bench::time_round(
        opt.steps, [&] { train_step(model, optimizer, batch); }, pytorch.get(), cpp, torch);
    // the C++ step's parts, once each
    auto start = std::chrono::steady_clock::now();
    const TinyEncoderForward f = tiny_encoder_forward(model, batch.inputs);
    forward.push_back(seconds_since(start));
    start = std::chrono::steady_clock::now();
    TinyEncoder grads = tiny_encoder_backward(model, f, softmax_cross_entropy(f.logits, batch.targets).grad);
    backward.push_back(seconds_since(start));
    start = std::chrono::steady_clock::now();
    optimizer.step(named_tensors(model), named_tensors(grads));
    adamw.push_back(seconds_since(start));
  }
  fmt::print("median over {} rounds of {} steps, the two sides taking turns:\n", opt.rounds, opt.steps);
  fmt::print("  C++ (this course)        {:8.3f} ms per step\n", 1e3 * median(cpp));
  if (pytorch) {
    fmt::print("  PyTorch 1.13 eager, CPU  {:8.3f} ms per step\n", 1e3 * median(torch));
    fmt::print("  ratio C++ / PyTorch      {:8.2f}\n", median(cpp) / median(torch));
  }
  fmt::print("the C++ step's parts: forward {:.3f} ms, loss and backward {:.3f} ms, AdamW {:.3f} ms\n",
             1e3 * median(forward), 1e3 * median(backward), 1e3 * median(adamw));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Benchmark of chapter 14: one training step, C++ against PyTorch", "bench_14_training"};
  Options opt;
  add_size_option(app, "--batch", opt.batch, "Sequences per step B (default 32)", 4096);
  add_size_option(app, "--seq-len", opt.seq_len, "Sequence length L (default 16)", 4096);
  bench::add_model_size_options(app, opt.model, "Encoder layers", /*with_vocab=*/false);
  bench::add_round_options(app, opt.rounds, opt.steps);
  bench::add_pytorch_options(app, opt.pytorch);
  app.add_flag("--default-malloc", opt.default_malloc,
               "Leave glibc's malloc as it is (no keep_freed_memory()), to measure what that call saves");
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

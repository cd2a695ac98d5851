// Benchmark of chapter 16: one training step (forward, cross-entropy, backward, AdamW) of the TinyGPT,
// in C++ and in PyTorch 1.13 eager mode, side by side in one run (float64, one thread, same sizes, same
// batch, same optimizer), with the step's multiply-adds counted and each side's rate set against what
// one large matrix product reaches on this machine (OpenBLAS's dgemm, 512 x 512, one thread).
//
//   build/bin/bench_16_tiny_gpt [--batch B] [--n-ctx T] [--d-model E] [--heads H] [--d-ff F]
//                               [--layers N] [--vocab V] [--rounds R] [--steps K] [--python PATH]
//                               [--script PATH] [--no-pytorch]
//
// The defaults are the --full run's model (V = 2501, the poems' characters). Run it from the
// repository root (the PyTorch side is tools/bench_16_pytorch.py, started once with
// OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(1)). The two sides take turns, R rounds of K
// steps each, C++ first, so that both see the same load; the time per step is the median over the
// rounds. Not a test: timings depend on the machine and its load. Compare the columns of one run.
#include "16_tiny_gpt/given.hpp"
#include "bench_util.hpp"
#include "cli.hpp"
#include "linalg.hpp"
#include "rng.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int batch = 16, n_ctx = 64, rounds = 7, steps = 5;
  bench::ModelSizes model{48, 4, 192, 2, 2501};  // E, H, F, blocks, V
  bench::PytorchSide pytorch{"/usr/bin/python3", "tools/bench_16_pytorch.py"};
};

TinyGptConfig config_of(const Options& opt) {
  TinyGptConfig c = bench::config_with<TinyGptConfig>(opt.model);
  c.n_ctx = opt.n_ctx;
  return c;
}

// R rounds of K steps at the program's measured rate (0.25 of a plain multiply-add's time each)
Cost cost_of(const Options& opt) {
  const double step = 0.25 * training_step_multiply_adds(config_of(opt), opt.batch, opt.n_ctx);
  return {training_memory_bytes(config_of(opt), static_cast<double>(opt.batch) * opt.n_ctx),
          1.2 * opt.rounds * opt.steps * step};
}

// The PyTorch side (tools/bench_16_pytorch.py): a child process over two pipes (bench/bench_util.hpp).
std::unique_ptr<bench::ChildProcess> start_pytorch(const Options& opt, const TinyGptConfig& c) {
  return bench::start_pytorch(
      opt.pytorch,
      {std::to_string(c.vocab), std::to_string(c.n_ctx), std::to_string(c.d_model), std::to_string(c.n_heads),
       std::to_string(c.d_ff), std::to_string(c.n_layers), std::to_string(opt.batch)},
      "ready bench_16", "run from the repository root, or give --python / --script, or --no-pytorch");
}

int run(const Options& opt) {
  keep_freed_memory();  // as the chapter program does
  const TinyGptConfig c = config_of(opt);
  require_within_limits(cost_of(opt), "these sizes", benchmark_limits);
  Rng rng(opt.common.seed);
  TinyGpt model = random_tiny_gpt(rng, c);
  AdamW optimizer(AdamWOptions{1e-3, 0.9, 0.999, 1e-8, 0.1});
  Batch batch;
  for (std::size_t i = 0; i < static_cast<std::size_t>(opt.batch) * c.n_ctx; ++i) {
    batch.inputs.push_back(rng.below(c.vocab));
    batch.targets.push_back(rng.below(c.vocab));
  }
  const double multiply_adds = training_step_multiply_adds(c, opt.batch, c.n_ctx);
  fmt::print(
      "one training step of the TinyGPT: B = {} windows of T = {}, E = {}, H = {}, F = {}, {} block(s), V = "
      "{}; "
      "{} parameters; float64, one thread\n",
      opt.batch, c.n_ctx, c.d_model, c.n_heads, c.d_ff, c.n_layers, c.vocab, parameter_count(model));
  fmt::print("multiply-adds per step (counted from the sizes): {:.3g}\n", multiply_adds);
  for (int i = 0; i < 2; ++i) train_step(model, optimizer, batch, c.n_ctx);  // warm-up
  const std::unique_ptr<bench::ChildProcess> pytorch = start_pytorch(opt, c);
  bench::race_with_pytorch(
      opt.rounds, opt.steps, multiply_adds, rng, [&] { train_step(model, optimizer, batch, c.n_ctx); },
      pytorch.get());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Benchmark of chapter 16: one training step of the TinyGPT, C++ against PyTorch",
               "bench_16_tiny_gpt"};
  Options opt;
  add_size_option(app, "--batch", opt.batch, "Windows per step B (default 16)", 4096);
  add_size_option(app, "--n-ctx", opt.n_ctx, "Context n_ctx = T (default 64)", 4096);
  bench::add_model_size_options(app, opt.model, "Blocks", /*with_vocab=*/true);
  bench::add_round_options(app, opt.rounds, opt.steps);
  bench::add_pytorch_options(app, opt.pytorch);
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

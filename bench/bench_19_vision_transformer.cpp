// Benchmark of chapter 19: one training step (forward, cross-entropy, backward, AdamW) of the TinyViT,
// in C++ and in PyTorch 1.13 eager mode, side by side in one run (float64, one thread, same sizes, same
// batch, same optimizer), with the step's multiply-adds counted and each side's rate set against what
// one large matrix product reaches on this machine (OpenBLAS's dgemm, 512 x 512, one thread).
//
//   build/bin/bench_19_vision_transformer [--batch B] [--image S] [--patch P] [--d-model E] [--heads H]
//                                         [--d-ff F] [--layers N] [--rounds R] [--steps K]
//                                         [--python PATH] [--script PATH] [--no-pytorch]
//
// The defaults are the --full run's TinyViT (28 x 28 grey images, patches of 7, ten classes). Run it from
// the repository root (the PyTorch side is tools/bench_19_pytorch.py, started once with
// OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(1)). The two sides take turns, R rounds of K steps
// each, C++ first, so that both see the same load; the time per step is the median over the rounds.
// Not a test: timings depend on the machine and its load. Compare the columns of one run.
#include "19_vision_transformer/given.hpp"
#include "bench_util.hpp"
#include "cli.hpp"
#include "rng.hpp"

#include <fmt/format.h>

#include <memory>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int batch = 64, image = 28, patch = 7, rounds = 7, steps = 5;
  bench::ModelSizes model{32, 4, 64, 2, 10};  // E, H, F, blocks, K (the classes, --vocab unused)
  bench::PytorchSide pytorch{"/usr/bin/python3", "tools/bench_19_pytorch.py"};
};

TinyVitConfig config_of(const Options& opt) {
  if (opt.image % opt.patch != 0)
    throw usage_error(fmt::format("--patch {} does not divide --image {}", opt.patch, opt.image));
  if (opt.model.d_model % opt.model.heads != 0)
    throw usage_error(
        fmt::format("--heads {} does not divide --d-model {}", opt.model.heads, opt.model.d_model));
  const auto z = [](int v) { return static_cast<std::size_t>(v); };
  return {1,
          z(opt.image),
          z(opt.patch),
          z(opt.model.d_model),
          z(opt.model.heads),
          z(opt.model.d_ff),
          z(opt.model.layers),
          10};
}

// R rounds of K steps, each step's products in BLAS (blas_multiply_add each); the activations of a
// dozen (E) and a few (F) rows per token and block, the attention weights
Cost cost_of(const Options& opt) {
  const TinyVitConfig c = config_of(opt);
  const double L = static_cast<double>(c.patches() + 1), B = opt.batch;
  return {8.0 * B * L * c.n_layers * (16.0 * c.d_model + 4.0 * c.d_ff + 2.0 * c.n_heads * L),
          1.2 * opt.rounds * opt.steps * blas_multiply_add * vit_step_multiply_adds(c, opt.batch)};
}

int run(const Options& opt) {
  keep_freed_memory();  // as the chapter program does
  const TinyVitConfig c = config_of(opt);
  require_within_limits(cost_of(opt), "these sizes", benchmark_limits);
  Rng rng(opt.common.seed);
  TinyVit model = random_tiny_vit(rng, c);
  AdamW optimizer(AdamWOptions{1e-3, 0.9, 0.999, 1e-8, 0.05});
  Tensor4 images = Tensor4::from_shape({static_cast<std::size_t>(opt.batch), 1, c.image, c.image});
  for (double& x : images) x = rng.normal();
  std::vector<std::size_t> labels;
  for (int b = 0; b < opt.batch; ++b) labels.push_back(rng.below(c.classes));
  const auto step = [&] {
    TinyVitLossAndGradients r = tiny_vit_loss_and_gradients(model, images, labels);
    optimizer.step(named_tensors(model), named_tensors(r.grads));
  };
  const double multiply_adds = vit_step_multiply_adds(c, opt.batch);
  fmt::print(
      "one training step of the TinyViT: B = {} images of {} x {}, patches of {} (n = {}), E = {}, H = {}, "
      "F = {}, {} block(s), K = {}; {} parameters; float64, one thread\n",
      opt.batch, c.image, c.image, c.patch, c.patches(), c.d_model, c.n_heads, c.d_ff, c.n_layers, c.classes,
      parameter_count(model));
  fmt::print("multiply-adds per step (counted from the sizes): {:.3g}\n", multiply_adds);
  for (int i = 0; i < 2; ++i) step();  // warm-up
  const std::unique_ptr<bench::ChildProcess> pytorch = bench::start_pytorch(
      opt.pytorch,
      {std::to_string(c.image), std::to_string(c.patch), std::to_string(c.d_model), std::to_string(c.n_heads),
       std::to_string(c.d_ff), std::to_string(c.n_layers), std::to_string(opt.batch)},
      "ready bench_19", "run from the repository root, or give --python / --script, or --no-pytorch");
  bench::race_with_pytorch(opt.rounds, opt.steps, multiply_adds, rng, step, pytorch.get());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Benchmark of chapter 19: one training step of the TinyViT, C++ against PyTorch",
               "bench_19_vision_transformer"};
  Options opt;
  add_size_option(app, "--batch", opt.batch, "Images per step B (default 64)", 4096);
  add_size_option(app, "--image", opt.image, "Image side S (default 28)", 1024);
  add_size_option(app, "--patch", opt.patch, "Patch side P, dividing S (default 7)", 1024);
  bench::add_model_size_options(app, opt.model, "Blocks", /*with_vocab=*/false);
  bench::add_round_options(app, opt.rounds, opt.steps);
  bench::add_pytorch_options(app, opt.pytorch);
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

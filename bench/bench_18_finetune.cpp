// Benchmark of chapter 18: one fine-tuning step of the TinyGPT, two ways, in C++ and in PyTorch 1.13 eager
// mode, side by side in one run (float64, one thread, same sizes, same batch, same optimizer):
//   full  chapter 18's (b): forward, cross-entropy, backward, AdamW over every parameter (chapter 16's
//         Trainer, the head tied to the embedding as the pretrained model's is);
//   LoRA  chapter 18's (c): the effective weights W + (α/r) B A on every block's in_proj_weight and
//         out_proj.weight, forward, loss, backward to dA and dB, AdamW on the adapters only
//         (LoraTrainer: merge_adapters, chapter 16's loss and gradients, adapter_gradients).
// Each step's multiply-adds are counted and each side's rate set against one 512 x 512 dgemm's
// (bench_util.hpp's product_rate); the trainable parameters and AdamW's state are counted on both sides.
//
//   build/bin/bench_18_finetune [--batch B] [--n-ctx T] [--d-model E] [--heads H] [--d-ff F] [--layers N]
//                               [--vocab V] [--rank R] [--lora-alpha A] [--rounds R] [--steps K]
//                               [--python PATH] [--script PATH] [--no-pytorch]
//
// The defaults are chapter 18's --full model (V = 3774, the poems' and the fortunes' characters; rank 4,
// α = 4). Run it from the repository root (the PyTorch side is tools/bench_18_pytorch.py, one process
// per step kind, each with OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(1), checked). The four
// contenders take turns, R rounds of K steps each (C++ full, PyTorch full, C++ LoRA, PyTorch LoRA), so
// that all see the same load; the time per step is the median over the rounds. The C++ LoRA step's
// parts (LoraTrainer::step's calls one by one) are timed in the same rounds, to show where its time
// goes. Not a test: timings depend on the machine and its load. Compare the columns of one run.
#include "18_pretrain_finetune/given.hpp"
#include "bench_util.hpp"
#include "cli.hpp"
#include "linalg.hpp"  // product_tn
#include "rng.hpp"

#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int batch = 16, n_ctx = 64, rounds = 7, steps = 3;
  int rank = 4;
  double alpha = 4;
  bench::ModelSizes model{48, 4, 192, 2, 3774};  // E, H, F, blocks, V
  bench::PytorchSide pytorch{"/usr/bin/python3", "tools/bench_18_pytorch.py"};
};

TinyGptConfig config_of(const Options& opt) {
  TinyGptConfig c = bench::config_with<TinyGptConfig>(opt.model);
  c.n_ctx = opt.n_ctx;
  if (opt.rank > opt.model.d_model)
    throw usage_error(fmt::format("--rank {} is above --d-model {}: an adapter's rank is at most E", opt.rank,
                                  opt.model.d_model));
  return c;
}

// The multiply-adds one LoRA step needs (what a framework that knows the base is frozen computes):
//   the forward and the activations' backward   2 · forward, forward = (full step − its AdamW) / 3
//   the two projections' weight gradients        4 E² per token and block
//   merging, and lora_backward                   r · 4E² and 2 r · 4E² per block
//   AdamW on the adapters                        10 per adapter parameter
// Chapter 16's backward, which the C++ step runs, also computes every other weight's gradient.
double lora_step_multiply_adds(const TinyGptConfig& c, std::size_t batch, std::size_t rank) {
  const double E = c.d_model, L = c.n_layers, r = rank, tokens = static_cast<double>(batch) * c.n_ctx;
  const double forward =
      (training_step_multiply_adds(c, batch, c.n_ctx) - training_step_multiply_adds(c, 0, c.n_ctx)) / 3.0;
  return 2.0 * forward + 4.0 * E * E * L * tokens + 3.0 * r * 4.0 * E * E * L + 10.0 * L * r * 6.0 * E;
}

// R rounds of K steps of each kind at the program's measured rate (0.25 of a plain multiply-add's time
// each, as bench_16), the LoRA step's parts once more
Cost cost_of(const Options& opt) {
  const TinyGptConfig c = config_of(opt);
  const double step = 0.25 * training_step_multiply_adds(c, opt.batch, opt.n_ctx);
  return {2.0 * training_memory_bytes(c, static_cast<double>(opt.batch) * opt.n_ctx),
          1.2 * opt.rounds * opt.steps * 3.0 * step};
}

// A PyTorch side (tools/bench_18_pytorch.py) for one step kind, "full" or "lora"; its threads checked.
std::unique_ptr<bench::ChildProcess> start_pytorch(const Options& opt, const TinyGptConfig& c,
                                                   const std::string& kind) {
  std::unique_ptr<bench::ChildProcess> side = bench::start_pytorch(
      opt.pytorch,
      {std::to_string(c.vocab), std::to_string(c.n_ctx), std::to_string(c.d_model), std::to_string(c.n_heads),
       std::to_string(c.d_ff), std::to_string(c.n_layers), std::to_string(opt.batch), kind,
       std::to_string(opt.rank), fmt::format("{}", opt.alpha)},
      "ready bench_18 " + kind, "run from the repository root, or give --python / --script, or --no-pytorch");
  if (side && side->ask("threads") != "1")
    throw usage_error("the PyTorch side does not run on one thread: not a fair comparison");
  return side;
}

// AdamW's two moments for `numbers` trained parameters, 8 bytes each, in KiB
double state_kib(std::size_t numbers) {
  return 2.0 * 8.0 * static_cast<double>(numbers) / 1024.0;
}

// The PyTorch side's count of the same (its optimizer's exp_avg and exp_avg_sq), or "" without one
std::string pytorch_state(bench::ChildProcess* side) {
  if (!side) return "";
  return fmt::format("  (PyTorch's optimizer: {:.1f} KiB)", std::stod(side->ask("state")) / 1024.0);
}

// The parts of LoraTrainer::step, in its order (chapter 16's tiny_gpt_loss_and_gradients split into
// its four calls), and the one product of chapter 16's backward whose result LoRA never reads.
const std::vector<std::string> kParts = {
    "merge_adapters",
    "tiny_gpt_forward",
    "cross_entropy_loss",
    "cross_entropy_backward",
    "tiny_gpt_backward (every weight's gradient)",
    "  of which the head's weight gradient, frozen in LoRA",
    "adapter_gradients",
};

// Times each part `steps` times, once per call, and appends each part's mean time per step to parts.
void time_lora_parts(const TinyGpt& base, const LoraAdapters& adapters, const Batch& batch, std::size_t T,
                     int steps, std::vector<std::vector<double>>& parts) {
  std::vector<double> seconds(kParts.size(), 0.0);
  for (int k = 0; k < steps; ++k) {
    auto start = std::chrono::steady_clock::now();
    const auto lap = [&](std::size_t part) {
      seconds[part] += seconds_since(start);
      start = std::chrono::steady_clock::now();
    };
    const TinyGpt merged = merge_adapters(base, adapters);
    lap(0);
    const TinyGptForward forward = tiny_gpt_forward(merged, batch.inputs, T);
    lap(1);
    const double loss = cross_entropy_loss(forward.logits, batch.targets);
    lap(2);
    const Matrix grad_logits = cross_entropy_backward(forward.logits, batch.targets);
    lap(3);
    const TinyGpt grads = tiny_gpt_backward(merged, forward, grad_logits);
    lap(4);
    const Matrix head = product_tn(grad_logits, forward.normed);
    lap(5);
    const LoraAdapters d = adapter_gradients(grads, adapters);
    lap(6);
    (void)loss;
  }
  for (std::size_t i = 0; i < kParts.size(); ++i) parts[i].push_back(seconds[i] / steps);
}

int run(const Options& opt) {
  keep_freed_memory();  // as the chapter program does
  const TinyGptConfig c = config_of(opt);
  require_within_limits(cost_of(opt), "these sizes", benchmark_limits);
  const std::size_t T = c.n_ctx, rank = static_cast<std::size_t>(opt.rank);
  Rng rng(opt.common.seed);
  // 1. the model (tied, as chapter 18 pretrains it), its adapters, one batch of random windows
  TinyGpt base = random_tiny_gpt(rng, c);
  tie_weights(base);
  TinyGpt model = base;  // the fully fine-tuned copy
  LoraAdapters adapters = new_adapters(rng, base, rank, opt.alpha);
  Batch batch;
  for (std::size_t i = 0; i < static_cast<std::size_t>(opt.batch) * T; ++i) {
    batch.inputs.push_back(rng.below(c.vocab));
    batch.targets.push_back(rng.below(c.vocab));
  }
  // 2. chapter 18's --full optimizers: (b) lr 1e-3, weight decay 0.1, warm-up, cosine, tied; (c) lr 1e-2,
  //    no weight decay; every step of the run inside the schedule
  TrainingOptions full_options, lora_options;
  full_options.lr = 1e-3, full_options.weight_decay = 0.1, full_options.warmup = 50;
  full_options.cosine = full_options.tie = true;
  lora_options.lr = 1e-2, lora_options.weight_decay = 0.0, lora_options.warmup = 50;
  lora_options.cosine = true;
  full_options.steps = lora_options.steps = static_cast<std::size_t>(opt.rounds * opt.steps * 2 + 2);
  Trainer full(full_options);
  LoraTrainer lora(lora_options);
  // 3. what each kind trains and keeps: counted from the tensors AdamW steps over
  std::size_t full_trained = 0, lora_trained = 0;
  for (const NamedTensor& t : named_tensors(model))
    if (t.name != "head.weight") full_trained += t.size;  // tied: the Trainer steps tok.weight for both
  for (const NamedTensor& t : named_tensors(adapters)) lora_trained += t.size;
  const double full_work = training_step_multiply_adds(c, opt.batch, T),
               lora_work = lora_step_multiply_adds(c, opt.batch, rank);
  fmt::print(
      "one fine-tuning step of the TinyGPT: B = {} windows of T = {}, E = {}, H = {}, F = {}, {} block(s), V "
      "= {}, the head tied to the embedding; LoRA of rank {} (α = {:g}) on every block's in_proj_weight and "
      "out_proj.weight; float64, one thread\n",
      opt.batch, T, c.d_model, c.n_heads, c.d_ff, c.n_layers, c.vocab, rank, opt.alpha);
  for (int i = 0; i < 2; ++i) {  // warm-up
    full.step(model, batch, T);
    lora.step(base, adapters, batch, T);
  }
  const std::unique_ptr<bench::ChildProcess> torch_full = start_pytorch(opt, c, "full"),
                                             torch_lora = start_pytorch(opt, c, "lora");
  fmt::print("{:<6}  {:>9} trained  {:>10.1f} KiB of AdamW's state{}\n", "full", full_trained,
             state_kib(full_trained), pytorch_state(torch_full.get()));
  fmt::print("{:<6}  {:>9} trained  {:>10.1f} KiB of AdamW's state{}\n", "LoRA", lora_trained,
             state_kib(lora_trained), pytorch_state(torch_lora.get()));
  fmt::print("multiply-adds per step (counted from the sizes): full {:.3g}, LoRA {:.3g} (what it needs)\n",
             full_work, lora_work);
  // 4. the rounds: the peak, full (C++, PyTorch), LoRA (C++, PyTorch), the C++ LoRA step's parts
  std::vector<double> rates, cpp_full, torch_full_s, cpp_lora, torch_lora_s;
  std::vector<std::vector<double>> parts(kParts.size());
  for (int r = 0; r < opt.rounds; ++r) {
    rates.push_back(bench::product_rate(rng));
    bench::time_round(
        opt.steps, [&] { full.step(model, batch, T); }, torch_full.get(), cpp_full, torch_full_s);
    bench::time_round(
        opt.steps, [&] { lora.step(base, adapters, batch, T); }, torch_lora.get(), cpp_lora, torch_lora_s);
    time_lora_parts(base, adapters, batch, T, opt.steps, parts);
  }
  const double peak = median(rates);
  fmt::print("median over {} rounds of {} steps, the four taking turns:\n", opt.rounds, opt.steps);
  fmt::print("  one 512 x 512 x 512 product (OpenBLAS)  {:8.2f} G multiply-adds/s (the peak below)\n",
             peak / 1e9);
  const auto show = [&](const std::string& kind, const std::vector<double>& cpp,
                        const std::vector<double>& torch, double work, bool pytorch) {
    fmt::print("{}\n", kind);
    bench::print_step_rate("C++ (this course)", median(cpp), work, peak);
    if (!pytorch) return;
    bench::print_step_rate("PyTorch 1.13 eager, CPU", median(torch), work, peak);
    fmt::print("  ratio C++ / PyTorch      {:9.2f}\n", median(cpp) / median(torch));
  };
  show("full fine-tuning (every parameter)", cpp_full, torch_full_s, full_work, torch_full != nullptr);
  show("LoRA (the adapters only)", cpp_lora, torch_lora_s, lora_work, torch_lora != nullptr);
  fmt::print("the C++ LoRA step's parts (LoraTrainer::step's calls, each timed alone, median ms):\n");
  for (std::size_t i = 0; i < kParts.size(); ++i)
    fmt::print("  {:<52} {:7.2f}\n", kParts[i], 1e3 * median(parts[i]));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Benchmark of chapter 18: one fine-tuning step (full and LoRA) of the TinyGPT, C++ against PyTorch",
      "bench_18_finetune"};
  Options opt;
  add_size_option(app, "--batch", opt.batch, "Windows per step B (default 16)", 4096);
  add_size_option(app, "--n-ctx", opt.n_ctx, "Context n_ctx = T (default 64)", 4096);
  bench::add_model_size_options(app, opt.model, "Blocks", /*with_vocab=*/true);
  add_size_option(app, "--rank", opt.rank, "Rank r of the LoRA adapters, at most E (default 4)", 4096);
  app.add_option("--lora-alpha", opt.alpha, "α of the LoRA adapters (default 4): s = α / r")
      ->check(positive_up_to(1e6));
  bench::add_round_options(app, opt.rounds, opt.steps);
  bench::add_pytorch_options(app, opt.pytorch);
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

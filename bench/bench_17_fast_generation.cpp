// Benchmark of chapter 17: the time to produce one more token's logits at context length n, with a KV
// cache (one decode_step at position n − 1) and by recomputation (chapter 16's generate: every block
// over all n tokens, the head on the last), side by side in one run, with the ratio and the fitted
// exponents of time ∝ n^a. A TinyGPT with random weights (time does not depend on their values),
// float64, one thread.
//
//   build/bin/bench_17_fast_generation [--n-ctx N] [--d-model E] [--heads H] [--kv-heads G] [--d-ff F]
//                                      [--layers L] [--vocab V] [--rounds R] [--svg DIR]
//
// The lengths are 64, 128, ... up to n_ctx (default 1024). In every round each length is timed once
// cached and once recomputed, in turn, so that both see the same load; a first round warms up and is
// not counted; the time is the median over the rounds. Not a test: timings depend on the machine and
// its load. Compare the columns of one run.
#include "17_fast_generation/given.hpp"
#include "bench_util.hpp"  // ModelSizes
#include "cli.hpp"
#include "rng.hpp"
#include "svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int n_ctx = 1024, kv_heads = 4, rounds = 7;
  bench::ModelSizes model{64, 4, 256, 2, 2501};  // E, H, F, blocks, V
};

TinyGptConfig config_of(const Options& opt) {
  TinyGptConfig c = bench::config_with<TinyGptConfig>(opt.model);
  c.n_ctx = opt.n_ctx;
  return c;
}

std::vector<std::size_t> lengths_of(const Options& opt) {
  std::vector<std::size_t> n;
  for (std::size_t x = 64; x <= static_cast<std::size_t>(opt.n_ctx); x *= 2) n.push_back(x);
  if (n.empty() || n.back() != static_cast<std::size_t>(opt.n_ctx)) n.push_back(opt.n_ctx);
  return n;
}

// the recomputations (and prefills) of R + 1 rounds, at 0.5 of a plain multiply-add's time each;
Cost cost_of(const Options& opt) {
  const TinyGptConfig c = config_of(opt);
  double work = 0.0;
  for (std::size_t n : lengths_of(opt)) work += (opt.rounds + 2.0) * recomputed_token_multiply_adds(c, n);
  // memory: a recomputation keeps every block's (H, n, n) weights and (n, 3E | F) activations; the
  // caches of every length hold 2 · layers · n_ctx · E each
  const double E = c.d_model, H = c.n_heads, F = c.d_ff, layers = c.n_layers, n = c.n_ctx;
  const double L = static_cast<double>(lengths_of(opt).size());
  const double bytes = 8.0 * layers * (H * n * n + n * (10.0 * E + 2.0 * F)) +
                       8.0 * (L + 1.0) * 2.0 * layers * n * E + 8.0 * 4.0 * c.vocab * E;
  return {bytes, 0.5 * work};
}

int run(const Options& opt) {
  keep_freed_memory();
  const TinyGptConfig c = config_of(opt);
  if (c.n_heads % static_cast<std::size_t>(opt.kv_heads) != 0)
    throw usage_error(fmt::format("--kv-heads {} does not divide --heads {}", opt.kv_heads, c.n_heads));
  if (opt.n_ctx < 128)
    throw usage_error("--n-ctx must be at least 128: two lengths, 64 and 128, to fit an exponent");
  require_within_limits(cost_of(opt), "these sizes", benchmark_limits);
  Rng rng(opt.common.seed);
  const TinyGpt mha = random_tiny_gpt(rng, c);
  const TinyGpt model = group_kv_heads(mha, static_cast<std::size_t>(opt.kv_heads));
  std::vector<std::size_t> ids;
  for (std::size_t i = 0; i < c.n_ctx; ++i) ids.push_back(rng.below(c.vocab));
  const std::vector<std::size_t> lengths = lengths_of(opt);
  fmt::print(
      "time per generated token: TinyGPT n_ctx = {}, E = {}, H = {}, G = {}, F = {}, {} block(s), V = {}; "
      "float64, one thread\n",
      c.n_ctx, c.d_model, c.n_heads, opt.kv_heads, c.d_ff, c.n_layers, c.vocab);
  const TokenTimes times = time_per_token(model, ids, lengths, static_cast<std::size_t>(opt.rounds));
  fmt::print("median over {} rounds, cached and recomputed taking turns:\n", opt.rounds);
  fmt::print("{:>6}  {:>12}  {:>12}  {:>8}  {:>16}\n", "n", "cached", "recomputed", "ratio", "counted ratio");
  std::vector<double> cs, rs;
  for (std::size_t k = 0; k < lengths.size(); ++k) {
    cs.push_back(times.cached_seconds[k]);
    rs.push_back(times.recomputed_seconds[k]);
    const double counted = recomputed_token_multiply_adds(c, lengths[k]) /
                           cached_token_multiply_adds(c, static_cast<std::size_t>(opt.kv_heads), lengths[k]);
    fmt::print("{:>6}  {:>9.3f} ms  {:>9.3f} ms  {:>7.1f}x  {:>15.1f}x\n", lengths[k], 1e3 * cs.back(),
               1e3 * rs.back(), rs.back() / cs.back(), counted);
  }
  fmt::print("fitted exponents of time ∝ n^a: cached {:.2f}, recomputed {:.2f}\n",
             fitted_exponent(lengths, cs), fitted_exponent(lengths, rs));
  const auto at512 = std::find(lengths.begin(), lengths.end(), std::size_t{512});
  if (at512 != lengths.end()) {
    const std::size_t k = static_cast<std::size_t>(at512 - lengths.begin());
    fmt::print("at n = 512 the cache is {:.1f}x faster per token (the goal: at least 10x)\n", rs[k] / cs[k]);
  }
  if (!opt.common.svg_dir.empty()) {
    std::vector<double> x(lengths.begin(), lengths.end()), cms, rms;
    for (double s : cs) cms.push_back(1e3 * s);
    for (double s : rs) rms.push_back(1e3 * s);
    write_line_plot_svg(
        opt.common.svg_dir, "bench-17-time-per-token.svg", x,
        {{"recomputed (chapter 16's generate)", rms}, {"KV cache (decode_step)", cms}},
        {"Time per generated token (one measured run)", "context length n", "ms", true, true});
    fmt::print("wrote bench-17-time-per-token.svg to {}\n", opt.common.svg_dir);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Benchmark of chapter 17: time per generated token, KV cache against recomputation",
               "bench_17_fast_generation"};
  Options opt;
  add_size_option(app, "--n-ctx", opt.n_ctx, "Context n_ctx, the longest length timed (default 1024)", 8192);
  bench::add_model_size_options(app, opt.model, "Blocks", /*with_vocab=*/true);
  add_size_option(app, "--kv-heads", opt.kv_heads, "K/V heads G, dividing H (default 4 = H)", 4096);
  add_size_option(app, "--rounds", opt.rounds, "Rounds (default 7)", 1000);
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

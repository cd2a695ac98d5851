// Chapter 12 — attention that fits in memory: why naive attention needs n² memory, the online
// softmax, and exact tiled attention (the FlashAttention idea) that never holds the n×n matrix. The
// extra memory of each version is measured by counting allocations, not asserted.
//
//   build/bin/ch12_efficient_attention [--seq-len N] [--d-k D] [--block-size B] [--causal]
//                                      [--seed S] [--svg DIR] [--load DIR] [--save DIR] [--no-color]
// The speed comparison with the matrix product is a separate benchmark: build/bin/bench_12_attention.
#include "cli.hpp"
#include "contracts/04_masking.hpp"
#include "contracts/12_efficient_attention.hpp"
#include "memory_meter.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "pytorch.hpp"
#include "rng.hpp"
#include "svg.hpp"

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int seq_len = 512;    // n = L = S
  int d_k = 16;         // d, the width of queries, keys and values
  int block_size = 64;  // B
  bool causal = false;
};

// What a run needs, estimated from its sizes before it starts (the cost constants are in cli.hpp).
// Alive at the peak: naive attention's few (n, n) matrices, Q, K, V and the output (n, d), and tiled
// attention's buffers, whose (B, B) block is allocated whatever n is. The work: drawing Q, K, V; naive
// and tiled attention on them (2 n² d multiply-adds and n² exponentials each; naive's four (n, n)
// matrices in fresh memory, tiled's (B, B) block and its rescaling, n² d / B); and section 4, both
// again on n' = min(n, 256) tokens for 5 block sizes.
Cost cost_of(const Options& opt) {
  const double n = opt.seq_len, d = opt.d_k, B = opt.block_size, m = std::min(n, 256.0);
  const auto both = [d, B](double n) {
    return 3.0 * n * d * normal_draw + n * n * (4.0 * d + 2.0 * math_call + 4.0 * fresh_double + d / B);
  };
  return {8.0 * (4.0 * n * n + 4.0 * n * d + B * (B + d + 2.0)),
          both(n) + B * B * fresh_double + 5.0 * both(m)};
}

// Naive attention, the way chapters 02 and 04 compute it: the whole (L, S) matrix of weights.
Matrix naive_attention(const Matrix& q, const Matrix& k, const Matrix& v, bool causal) {
  if (causal) return masked_attention(q, k, v, causal_mask(q.shape(0))).output;
  return scaled_dot_product_attention(q, k, v).output;
}

// 1. Bytes, by formula, for sizes well beyond this machine's comfort.
void show_memory_table(const Options& opt, std::vector<double>& ns, std::vector<Series>& series) {
  print_section("1. How much memory naive attention needs");
  const double d = opt.d_k, B = opt.block_size;
  fmt::print("d = {} (--d-k), B = {} (--block-size). Naive attention holds the (n, n) scores; tiled\n",
             opt.d_k, opt.block_size);
  fmt::print(
      "attention holds one (B, B) block of scores, a running max and sum per row and a (B, d) "
      "accumulator.\n\n");
  fmt::print("{:>8}  {:>14}  {:>18}  {:>18}  {:>16}\n", "n", "Q, K, V, out", "scores (n, n) f64",
             "scores (n, n) f32", "tiled extra f64");
  Series naive{"naive: (n, n) scores, float64", {}}, tiled{"tiled: B² + 2B + B·d, float64", {}},
      inputs{"Q, K, V and output, float64", {}};
  for (double n = 1024; n <= 131072; n *= 2) {
    const double io = 8 * 4 * n * d, scores = 8 * n * n, extra = 8 * (B * B + 2 * B + B * d);
    fmt::print("{:>8}  {:>14}  {:>18}  {:>18}  {:>16}\n", n, format_bytes(io), format_bytes(scores),
               format_bytes(scores / 2), format_bytes(extra));
    ns.push_back(n);
    naive.y.push_back(scores);
    tiled.y.push_back(extra);
    inputs.y.push_back(io);
  }
  series = {naive, inputs, tiled};
  const double big = 65536;
  fmt::print(
      "\nThe scores grow with n², everything else with n: at n = {} the float64 score matrix alone\n"
      "is {}, more than this machine's 24 GiB, while the inputs and output are {}.\n",
      big, format_bytes(8 * big * big), format_bytes(8 * 4 * big * d));
}

// 2. The online softmax on one row, step by step.
Vector show_online_softmax() {
  print_section("2. The online softmax: one pass, a running maximum m and a running sum l");
  const Vector x = {2, 1, 5, 3, 9, 0};
  print_vector("x", x, {}, 0);
  fmt::print("{:>3}  {:>4}  {:>5}  {:>28}\n", "j", "x_j", "m", "l = l·exp(m_old - m) + exp(x_j - m)");
  double m = -INFINITY, l = 0;
  for (std::size_t j = 0; j < x.size(); ++j) {
    const double m_new = std::max(m, x(j));
    l = l * std::exp(m - m_new) + std::exp(x(j) - m_new);
    m = m_new;
    fmt::print("{:>3}  {:>4}  {:>5}  {:>28.6f}\n", j, x(j), m, l);
  }
  const Vector p = online_softmax(x);
  print_vector("online_softmax(x) = exp(x - m) / l", p, {}, 4);
  fmt::print(
      "When a new maximum arrives (x_2 = 5, x_4 = 9) the sum so far is rescaled by exp(m_old - m);\n"
      "otherwise it only grows. The row is read once and never stored as exponentials.\n");
  return p;
}

struct Measured {
  double error = 0;  // max |tiled - naive|
  std::size_t naive_bytes = 0, tiled_bytes = 0;
};

// Runs naive and tiled attention on the same inputs and measures each one's extra memory.
Measured measure(const Matrix& q, const Matrix& k, const Matrix& v, std::size_t B, bool causal) {
  Matrix naive, tiled;
  Measured r;
  r.naive_bytes = memory::extra_bytes_of([&] { naive = naive_attention(q, k, v, causal); });
  r.tiled_bytes = memory::extra_bytes_of([&] { tiled = tiled_attention(q, k, v, B, causal); });
  r.error = max_abs_diff(tiled, naive);
  return r;
}

// 3. Tiled attention against naive attention: same output, a fraction of the memory.
Measured show_tiled(const Options& opt, Rng& rng) {
  print_section(fmt::format("3. Tiled attention, n = {}, d = {}, B = {}{}", opt.seq_len, opt.d_k,
                            opt.block_size, opt.causal ? ", causal" : ""));
  const std::size_t n = opt.seq_len, d = opt.d_k;
  const Matrix q = rng.normal_matrix(n, d), k = rng.normal_matrix(n, d), v = rng.normal_matrix(n, d);
  const Measured r = measure(q, k, v, opt.block_size, opt.causal);
  const double output_bytes = 8.0 * n * d;
  fmt::print("extra memory, measured by counting every allocation (the (n, d) output, {}, included):\n",
             format_bytes(output_bytes));
  fmt::print("  naive (chapter {}):  {:>10}   = {:.2f} × the (n, n) matrix of {}\n", opt.causal ? "04" : "02",
             format_bytes(r.naive_bytes), r.naive_bytes / (8.0 * n * n), format_bytes(8.0 * n * n));
  fmt::print("  tiled_attention:    {:>10}   = output + {}\n", format_bytes(r.tiled_bytes),
             format_bytes(r.tiled_bytes - output_bytes));
  fmt::print("  max |tiled - naive| = {:.1e}\n", r.error);
  fmt::print(
      "Naive attention keeps several (n, n) matrices alive at once (the scores, the scaled scores,\n"
      "the weights); tiled attention never holds more than one (B, B) block of scores.\n");
  return r;
}

// 4. The block size changes the memory, never the result.
double show_block_sizes(const Options& opt, Rng& rng) {
  print_section("4. Any block size gives the same output");
  const std::size_t n = std::min(opt.seq_len, 256), d = opt.d_k;
  const Matrix q = rng.normal_matrix(n, d), k = rng.normal_matrix(n, d), v = rng.normal_matrix(n, d);
  fmt::print("n = {}, d = {}{}\n", n, d, opt.causal ? ", causal" : "");
  fmt::print("{:>6}  {:>20}  {:>22}\n", "B", "extra memory", "max |tiled - naive|");
  double worst = 0;
  for (std::size_t B : {1, 4, 16, 64, 256}) {
    const Measured r = measure(q, k, v, B, opt.causal);
    worst = std::max(worst, r.error);
    fmt::print("{:>6}  {:>20}  {:>22.1e}\n", B, format_bytes(r.tiled_bytes), r.error);
  }
  return worst;
}

// --load DIR: tiled attention on query.npy (L, E), key.npy (S, E), value.npy (S, Ev), as chapter 02.
int run_loaded(const Options& opt) {
  const std::string& dir = opt.common.load_dir;
  const AttentionInputs in = load_attention_inputs(dir);
  const Matrix &q = in.query, &k = in.key, &v = in.value;
  if (opt.causal && q.shape(0) != k.shape(0)) {
    throw usage_error(
        fmt::format("--causal needs as many queries as keys, but query.npy has L = {} and key.npy "
                    "S = {}",
                    q.shape(0), k.shape(0)));
  }
  // The check against naive attention holds the (L, S) weights.
  require_memory(8.0 * 3.0 * q.shape(0) * k.shape(0),
                 fmt::format("the naive ({}, {}) weights to check against", q.shape(0), k.shape(0)));
  print_title("Chapter 12 · Tiled attention on " + dir);
  const Matrix out = tiled_attention(q, k, v, opt.block_size, opt.causal);
  require_finite_result("the output", out);  // an overflow is bad input, never a printed NaN
  print_matrix(fmt::format("tiled_attention(query, key, value), B = {}{}", opt.block_size,
                           opt.causal ? ", causal" : ""),
               out);
  if (!opt.common.save_dir.empty()) {
    save_npy(opt.common.save_dir, "output", out);
    fmt::print("wrote output.npy {} to {}\n", shape_of(out), opt.common.save_dir);
  }
  print_section("Self-checks");
  SelfChecks checks;
  // Each output row is a weighted average of value rows, so rounding errors scale with max |value|
  // (up to 1e15 is valid input, see npy.hpp): the tolerance is relative to it.
  const double scale = std::max(1.0, xt::amax(xt::abs(v))());
  checks.close("equals naive attention", max_abs_diff(out, naive_attention(q, k, v, opt.causal)),
               1e-12 * scale);
  return checks.exit_code();
}

int run(const Options& opt) {
  if (!opt.common.load_dir.empty()) return run_loaded(opt);
  const double n = opt.seq_len;
  require_within_limits(cost_of(opt), fmt::format("--seq-len {} --d-k {} --block-size {}", opt.seq_len,
                                                  opt.d_k, opt.block_size));
  print_title("Chapter 12 · Attention that fits in memory");
  print_config("sizes",
               fmt::format("n = {} tokens (--seq-len), d = {} (--d-k), block size B = {} (--block-size)",
                           opt.seq_len, opt.d_k, opt.block_size));
  print_config("mask", opt.causal ? "causal (--causal)" : "none (--causal adds one)");
  print_config("seed", std::to_string(opt.common.seed));

  std::vector<double> ns;
  std::vector<Series> series;
  show_memory_table(opt, ns, series);
  const Vector p = show_online_softmax();
  Rng rng(opt.common.seed);
  const Measured tiled = show_tiled(opt, rng);
  const double worst = show_block_sizes(opt, rng);

  print_section("Self-checks");
  SelfChecks checks;
  const Vector x = {2, 1, 5, 3, 9, 0};
  checks.close("online softmax equals softmax_rows",
               max_abs_diff(p, Vector(xt::view(softmax_rows(Matrix({{2, 1, 5, 3, 9, 0}})), 0, xt::all()))),
               1e-15);
  checks.close("tiled attention equals naive attention", tiled.error, 1e-12);
  checks.close("every block size gives the naive result", worst, 1e-12);
  const double tiled_extra = tiled.tiled_bytes - 8.0 * opt.seq_len * opt.d_k;
  const double bound = 8.0 * (opt.block_size * (opt.block_size + 2.0 + opt.d_k)) + 4096;
  checks.expect("tiled extra memory stays within B² + 2B + B·d doubles (+4 KiB)", tiled_extra <= bound,
                fmt::format("{} <= {}", format_bytes(tiled_extra), format_bytes(bound)));
  checks.expect("naive attention holds at least the (n, n) matrix", tiled.naive_bytes >= 8.0 * n * n);

  if (!opt.common.svg_dir.empty()) {
    PlotSpec spec;
    spec.title =
        fmt::format("Memory of attention, d = {}, B = {} (bytes, log scale)", opt.d_k, opt.block_size);
    spec.x_label = "n (tokens)";
    spec.y_label = "bytes";
    spec.log2_x = true;
    spec.log10_y = true;
    write_line_plot_svg(opt.common.svg_dir, "12-memory.svg", ns, series, spec);
    fmt::print("wrote 12-memory.svg to {}\n", opt.common.svg_dir);
  }
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 12: attention that fits in memory: online softmax and tiled attention",
               "ch12_efficient_attention"};
  Options opt;
  add_size_option(app, "--seq-len", opt.seq_len, "Tokens n (queries = keys = n)",
                  largest_within_limits(&Options::seq_len, cost_of));
  add_size_option(app, "--d-k", opt.d_k, "Width d of queries, keys and values",
                  largest_within_limits(&Options::d_k, cost_of));
  add_size_option(app, "--block-size", opt.block_size, "Block size B of tiled attention",
                  largest_within_limits(&Options::block_size, cost_of));
  app.add_flag("--causal", opt.causal, "Each query attends to itself and earlier keys only");
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

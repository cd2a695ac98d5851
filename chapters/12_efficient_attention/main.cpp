// Chapter 12 — attention that fits in memory: why naive attention needs n² memory, the online
// softmax, and exact tiled attention (the FlashAttention idea) that never holds the n×n matrix. The
// extra memory of each version is measured by counting allocations, not asserted.
//
//   build/bin/ch12_efficient_attention [--seq-len N] [--d-k D] [--block-size B] [--causal]
//                                      [--seed S] [--svg DIR] [--load DIR] [--save DIR] [--no-color]
// The speed comparison with the matrix product is a separate benchmark: build/bin/bench_12_attention.
//
// Each section computes into a named result (compute_...), then prints and draws from it (show_...);
// self_checks() checks the results; run() calls them in order.
#include "04_masking/contract.hpp"
#include "12_efficient_attention/contract.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "memory_meter.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "pytorch.hpp"
#include "results.hpp"
#include "rng.hpp"

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

// The flags, each setting a field of Options (the sizes up to what fits the limits, cost_of).
void add_flags(CLI::App& app, Options& opt) {
  add_size_flag(app, "--seq-len", opt, &Options::seq_len, "Tokens n (queries = keys = n)", cost_of);
  add_size_flag(app, "--d-k", opt, &Options::d_k, "Width d of queries, keys and values", cost_of);
  add_size_flag(app, "--block-size", opt, &Options::block_size, "Block size B of tiled attention", cost_of);
  app.add_flag("--causal", opt.causal, "Each query attends to itself and earlier keys only");
  add_common_options(app, opt.common, /*interop=*/true);
}

// Naive attention, the way chapters 02 and 04 compute it: the whole (L, S) matrix of weights.
//   q (L, d), k (S, d), v (S, d_v)  ->  (L, d_v)
Matrix naive_attention(const Matrix& q, const Matrix& k, const Matrix& v, bool causal) {
  if (causal) return masked_attention(q, k, v, causal_mask(q.shape(0))).output;
  return scaled_dot_product_attention(q, k, v).output;
}

// --- 1. Bytes, by formula, for sizes well beyond this machine's comfort ---------------------------------

// The memory of attention on n tokens of width d, in bytes of float64 (8 bytes a number):
//   Q, K, V and the output: 4 (n, d) matrices          8 · 4 n d
//   naive attention's scores: one (n, n) matrix         8 n²     (float32: half)
//   tiled attention's extra: a (B, B) block of scores, a running max and sum per row (2B) and a (B, d)
//   accumulator                                         8 (B² + 2B + B d)
struct MemoryRow {
  double n = 0;
  double inputs_and_output = 0, scores = 0, tiled_extra = 0;
};

MemoryRow memory_at(double n, double d, double B) {
  return {n, 8 * 4 * n * d, 8 * n * n, 8 * (B * B + 2 * B + B * d)};
}

struct MemoryTable {
  int d = 0, B = 0;
  std::vector<MemoryRow> rows;  // n = 1024, 2048, ..., 131072
  MemoryRow example;            // n = 65536, the example in the text
};

MemoryTable compute_memory_table(const Options& opt) {
  MemoryTable t;
  t.d = opt.d_k;
  t.B = opt.block_size;
  for (double n = 1024; n <= 131072; n *= 2) t.rows.push_back(memory_at(n, t.d, t.B));
  t.example = memory_at(65536, t.d, t.B);
  return t;
}

void show_memory_table(const MemoryTable& t, Figures& figures) {
  print_section("1. How much memory naive attention needs");
  fmt::print("d = {} (--d-k), B = {} (--block-size). Naive attention holds the (n, n) scores; tiled\n", t.d,
             t.B);
  fmt::print(
      "attention holds one (B, B) block of scores, a running max and sum per row and a (B, d) "
      "accumulator.\n\n");
  fmt::print("{:>8}  {:>14}  {:>18}  {:>18}  {:>16}\n", "n", "Q, K, V, out", "scores (n, n) f64",
             "scores (n, n) f32", "tiled extra f64");
  for (const MemoryRow& r : t.rows) {
    fmt::print("{:>8}  {:>14}  {:>18}  {:>18}  {:>16}\n", r.n, format_bytes(r.inputs_and_output),
               format_bytes(r.scores), format_bytes(r.scores / 2), format_bytes(r.tiled_extra));
  }
  fmt::print(
      "\nThe scores grow with n², everything else with n: at n = {} the float64 score matrix alone\n"
      "is {}, more than this machine's 24 GiB, while the inputs and output are {}.\n",
      t.example.n, format_bytes(t.example.scores), format_bytes(t.example.inputs_and_output));

  std::vector<double> ns;
  Series naive{"naive: (n, n) scores, float64", {}}, inputs{"Q, K, V and output, float64", {}},
      tiled{"tiled: B² + 2B + B·d, float64", {}};
  for (const MemoryRow& r : t.rows) {
    ns.push_back(r.n);
    naive.y.push_back(r.scores);
    inputs.y.push_back(r.inputs_and_output);
    tiled.y.push_back(r.tiled_extra);
  }
  const PlotSpec spec{fmt::format("Memory of attention, d = {}, B = {} (bytes, log scale)", t.d, t.B),
                      "n (tokens)", "bytes", /*log2_x=*/true, /*log10_y=*/true};
  figures.line_plot("12-memory.svg", ns, {naive, inputs, tiled}, spec);
}

// --- 2. The online softmax on one row, step by step ------------------------------------------------------

// One pass over x with a running maximum m and a running sum l of exp(x_j - m):
//   m_j = max(m_(j-1), x_j),   l_j = l_(j-1) exp(m_(j-1) - m_j) + exp(x_j - m_j),   m_(-1) = -inf, l_(-1) = 0
// and at the end softmax(x)_j = exp(x_j - m) / l.
struct OnlineSoftmax {
  Vector x;                  // the row
  std::vector<double> m, l;  // m_j and l_j after each step j
  Vector online;             // online_softmax(x), chapter 12
  Vector reference;          // softmax_rows of the same row, chapter 02
};

OnlineSoftmax compute_online_softmax() {
  OnlineSoftmax s;
  s.x = {2, 1, 5, 3, 9, 0};
  double m = -INFINITY, l = 0;
  for (std::size_t j = 0; j < s.x.size(); ++j) {
    const double m_new = std::max(m, s.x(j));
    l = l * std::exp(m - m_new) + std::exp(s.x(j) - m_new);
    m = m_new;
    s.m.push_back(m);
    s.l.push_back(l);
  }
  s.online = online_softmax(s.x);
  Matrix row = Matrix::from_shape({1, s.x.size()});
  for (std::size_t j = 0; j < s.x.size(); ++j) row(0, j) = s.x(j);
  const Matrix p = softmax_rows(row);
  s.reference = Vector::from_shape({s.x.size()});
  for (std::size_t j = 0; j < s.x.size(); ++j) s.reference(j) = p(0, j);
  return s;
}

void show_online_softmax(const OnlineSoftmax& s) {
  print_section("2. The online softmax: one pass, a running maximum m and a running sum l");
  print_vector("x", s.x, {}, 0);
  fmt::print("{:>3}  {:>4}  {:>5}  {:>28}\n", "j", "x_j", "m", "l = l·exp(m_old - m) + exp(x_j - m)");
  for (std::size_t j = 0; j < s.x.size(); ++j)
    fmt::print("{:>3}  {:>4}  {:>5}  {:>28.6f}\n", j, s.x(j), s.m[j], s.l[j]);
  print_vector("online_softmax(x) = exp(x - m) / l", s.online, {}, 4);
  fmt::print(
      "When a new maximum arrives (x_2 = 5, x_4 = 9) the sum so far is rescaled by exp(m_old - m);\n"
      "otherwise it only grows. The row is read once and never stored as exponentials.\n");
}

// --- 3. and 4. Tiled attention against naive attention -------------------------------------------------

// Naive and tiled attention on the same inputs, each one's extra memory measured by counting every
// allocation while it runs (memory_meter.hpp).
struct Measured {
  double error = 0;  // max |tiled - naive|
  std::size_t naive_bytes = 0, tiled_bytes = 0;
};

Measured measure(const Matrix& q, const Matrix& k, const Matrix& v, std::size_t B, bool causal) {
  Matrix naive, tiled;
  Measured r;
  r.naive_bytes = memory::extra_bytes_of([&] { naive = naive_attention(q, k, v, causal); });
  r.tiled_bytes = memory::extra_bytes_of([&] { tiled = tiled_attention(q, k, v, B, causal); });
  r.error = max_abs_diff(tiled, naive);
  return r;
}

// 3. One run at the flags' sizes: q, k, v (n, d), normal.
struct TiledRun {
  std::size_t n = 0, d = 0, B = 0;
  bool causal = false;
  Measured measured;
};

TiledRun compute_tiled(const Options& opt, Rng& rng) {
  TiledRun t;
  t.n = opt.seq_len;
  t.d = opt.d_k;
  t.B = opt.block_size;
  t.causal = opt.causal;
  const Matrix q = rng.normal_matrix(t.n, t.d);
  const Matrix k = rng.normal_matrix(t.n, t.d);
  const Matrix v = rng.normal_matrix(t.n, t.d);
  t.measured = measure(q, k, v, t.B, t.causal);
  return t;
}

void show_tiled(const TiledRun& t) {
  print_section(
      fmt::format("3. Tiled attention, n = {}, d = {}, B = {}{}", t.n, t.d, t.B, t.causal ? ", causal" : ""));
  const Measured& r = t.measured;
  const double output_bytes = 8.0 * t.n * t.d, matrix_bytes = 8.0 * t.n * t.n;
  fmt::print("extra memory, measured by counting every allocation (the (n, d) output, {}, included):\n",
             format_bytes(output_bytes));
  fmt::print("  naive (chapter {}):  {:>10}   = {:.2f} × the (n, n) matrix of {}\n", t.causal ? "04" : "02",
             format_bytes(r.naive_bytes), r.naive_bytes / matrix_bytes, format_bytes(matrix_bytes));
  fmt::print("  tiled_attention:    {:>10}   = output + {}\n", format_bytes(r.tiled_bytes),
             format_bytes(r.tiled_bytes - output_bytes));
  fmt::print("  max |tiled - naive| = {:.1e}\n", r.error);
  fmt::print(
      "Naive attention keeps several (n, n) matrices alive at once (the scores, the weights and the\n"
      "copy of them it returns); tiled attention never holds more than one (B, B) block of scores.\n");
}

// 4. The block size changes the memory, never the result: n' = min(n, 256) tokens, B = 1 .. 256.
struct BlockSizeRun {
  std::size_t B = 0;
  Measured measured;
};

struct BlockSizes {
  std::size_t n = 0, d = 0;
  bool causal = false;
  std::vector<BlockSizeRun> runs;
  double worst_error = 0;  // the largest max |tiled - naive| over the runs
};

BlockSizes compute_block_sizes(const Options& opt, Rng& rng) {
  BlockSizes b;
  b.n = std::min(opt.seq_len, 256);
  b.d = opt.d_k;
  b.causal = opt.causal;
  const Matrix q = rng.normal_matrix(b.n, b.d);
  const Matrix k = rng.normal_matrix(b.n, b.d);
  const Matrix v = rng.normal_matrix(b.n, b.d);
  for (std::size_t B : {1, 4, 16, 64, 256}) {
    const Measured r = measure(q, k, v, B, b.causal);
    b.runs.push_back({B, r});
    b.worst_error = std::max(b.worst_error, r.error);
  }
  return b;
}

void show_block_sizes(const BlockSizes& b) {
  print_section("4. Any block size gives the same output");
  fmt::print("n = {}, d = {}{}\n", b.n, b.d, b.causal ? ", causal" : "");
  fmt::print("{:>6}  {:>20}  {:>22}\n", "B", "extra memory", "max |tiled - naive|");
  for (const BlockSizeRun& run : b.runs)
    fmt::print("{:>6}  {:>20}  {:>22.1e}\n", run.B, format_bytes(run.measured.tiled_bytes),
               run.measured.error);
}

// --- Self-checks and the run ---------------------------------------------------------------------------

int self_checks(const OnlineSoftmax& s, const TiledRun& t, const BlockSizes& b) {
  print_section("Self-checks");
  SelfChecks checks;
  checks.close("online softmax equals softmax_rows", max_abs_diff(s.online, s.reference), 1e-15);
  checks.close("tiled attention equals naive attention", t.measured.error, 1e-12);
  checks.close("every block size gives the naive result", b.worst_error, 1e-12);
  // beyond the (n, d) output, tiled attention holds its B² + 2B + B d doubles (section 1), plus up to
  // 4 KiB of small allocations
  const double tiled_extra = t.measured.tiled_bytes - 8.0 * t.n * t.d;
  const double bound = 8.0 * (t.B * (t.B + 2.0 + t.d)) + 4096;
  checks.expect("tiled extra memory stays within B² + 2B + B·d doubles (+4 KiB)", tiled_extra <= bound,
                fmt::format("{} <= {}", format_bytes(tiled_extra), format_bytes(bound)));
  checks.expect("naive attention holds at least the (n, n) matrix",
                t.measured.naive_bytes >= 8.0 * t.n * t.n);
  return checks.exit_code();
}

// --load DIR: tiled attention on query.npy (L, E), key.npy (S, E), value.npy (S, Ev), as chapter 02,
// checked against naive attention; --save DIR writes output.npy (L, Ev).
int run_loaded(const Options& opt) {
  const std::string& dir = opt.common.load_dir;
  const AttentionInputs in = load_attention_inputs(dir);
  // chapter 02's directories hold its weights.npy too
  require_no_unread_files(dir, {"output", "weights"}, "the files of attention (query, key, value)");
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
  const Matrix out = tiled_attention(q, k, v, opt.block_size, opt.causal);
  print_title("Chapter 12 · Tiled attention on " + dir);
  report_results({shown_matrix("output", out,
                               fmt::format("tiled_attention(query, key, value), B = {}{}", opt.block_size,
                                           opt.causal ? ", causal" : ""))},
                 opt.common.save_dir);
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
  require_within_limits(cost_of(opt), fmt::format("--seq-len {} --d-k {} --block-size {}", opt.seq_len,
                                                  opt.d_k, opt.block_size));
  print_title("Chapter 12 · Attention that fits in memory");
  print_config("sizes",
               fmt::format("n = {} tokens (--seq-len), d = {} (--d-k), block size B = {} (--block-size)",
                           opt.seq_len, opt.d_k, opt.block_size));
  print_config("mask", opt.causal ? "causal (--causal)" : "none (--causal adds one)");
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  Figures figures(opt.common);
  const MemoryTable memory = compute_memory_table(opt);
  show_memory_table(memory, figures);
  const OnlineSoftmax softmax = compute_online_softmax();
  show_online_softmax(softmax);
  const TiledRun tiled = compute_tiled(opt, rng);
  show_tiled(tiled);
  const BlockSizes blocks = compute_block_sizes(opt, rng);
  show_block_sizes(blocks);
  const int status = self_checks(softmax, tiled, blocks);
  figures.report();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 12: attention that fits in memory: online softmax and tiled attention",
               "ch12_efficient_attention"};
  Options opt;
  add_flags(app, opt);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

// Benchmark of chapter 12: tiled attention closer to the machine (vectorised exponentials, float32, two
// threads) against the matrix product, naive attention and PyTorch 1.13, on the same sizes in one run,
// for n = 256 to 16384 at d = 64.
//
//   build/bin/bench_12_attention [--n-min N] [--n-max N] [--d D] [--block-size B] [--rounds R]
//                                [--threads T] [--naive-n-max N] [--loops-n-max N] [--python PATH]
//                                [--torch64-n-max N] [--script PATH] [--no-pytorch]
//
// The PyTorch side is tools/bench_12_pytorch.py (found in the source tree), a child process started
// with OPENBLAS_NUM_THREADS=1 (bench/bench_util.hpp); --no-pytorch leaves it out. Honest timing: for
// each n, every contender below is called once per round, all of them in turn, R rounds (3 from
// n = 8192 on), after one warm-up call each up to n = 4096; each figure is the median over the rounds,
// so that every contender sees the same load. The contenders that allocate (n, n) matrices on every
// call (naive and PyTorch's) take their rounds after the others (see run()). Not a test: compare the
// columns of one run.
//
// The limits, timed in the same rounds as the contenders:
//   peak           one 1024 x 1024 x 1024 product, OpenBLAS dgemm / sgemm, with one thread and with T
//                  (our T workers, each a one-thread OpenBLAS call on a slice of the rows)
// The contenders, all computing softmax(Q Kᵀ / √d) V (4 n² d flops: the two products) or Q Kᵀ:
//   gemm           S = Q Kᵀ alone, dgemm into a buffer allocated beforehand (2 n² d flops)
//   naive          S = Q Kᵀ (dgemm), softmax of every row, S V (dgemm): the whole (n, n) matrix
//   tiled std::exp fast_tiled_attention with vector_exp = false: BLAS blocks, one std::exp per score
//   tiled          fast_tiled_attention: BLAS blocks, exponentials in vectorised loops (float64, float32)
//   tiled T thr.   the same with T threads, each taking a contiguous range of query blocks; and the
//                  first version of that, with new threads and new scratch memory on every call
//   loops          the course's reference tiled_attention (chapter 12's solution/), plain C++ loops
//   PyTorch        softmax(Q @ K.T / √d) @ V (naive64) and F._scaled_dot_product_attention (sdpa64,
//                  sdpa32), one thread, and sdpa with T threads (PyTorch's and OpenBLAS's)
#include "12_efficient_attention/contract.hpp"
#include "12_efficient_attention/memory_meter.hpp"
#include "bench_util.hpp"
#include "cli.hpp"
#include "fast_attention.hpp"
#include "rng.hpp"
#include "svg.hpp"

#include <cblas.h>  // Debian's libopenblas-dev: cblas_dgemm, cblas_sgemm

#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int n_min = 256, n_max = 16384, d = 64, block_size = 256, rounds = 5, threads = 2;
  int naive_n_max = 4096;    // naive attention holds (n, n) matrices: skip it above this n
  int loops_n_max = 2048;    // the loop version is slow; skip it above this n
  int torch64_n_max = 8192;  // PyTorch's float64 attention takes about 20 s at n = 16384: skip it above
  std::string python = "/usr/bin/python3";
  std::string script = COURSE_SOURCE_DIR "/tools/bench_12_pytorch.py";
  bool no_pytorch = false;
};

int rounds_at(const Options& opt, double n) {
  return n >= 8192 ? std::min(opt.rounds, 3) : opt.rounds;
}

// What a run needs, estimated from its sizes before it starts (the cost constants are in cli.hpp).
// Memory at the peak: naive attention's two (n, n) matrices up to --naive-n-max (PyTorch's, in its own
// process, are not counted), the gemm's (n, n) buffer, Q, K, V in float64 and float32 and the outputs.
// Work per n, per call (rounds, plus one warm-up up to n = 4096), in this process: the gemm (n² d
// multiply-adds in OpenBLAS); tiled attention (2 n² d in OpenBLAS) with std::exp (n² math calls), and
// with the vectorised exp in float64, in float32 (counted as half: twice the numbers per instruction)
// and with T threads, kept and fresh (each counted as 1/T), plus a fixed cost per pair of blocks
// (block_pair below: what makes a small B slow); naive up to --naive-n-max (2 n² d, n² math calls, 2 n²
// fresh doubles); loops up to --loops-n-max (n² d plain multiply-adds). The PyTorch side's time comes on
// top.
// One (query block, key block) pair of tiled attention beyond its arithmetic: two BLAS calls and the
// setup of the row loops, in multiply-adds (about 0.7 µs measured at B = 1, n = 1024: 440 of them).
constexpr double block_pair = 500;
Cost cost_of(const Options& opt) {
  const double d = opt.d, T = opt.threads, B = opt.block_size;
  double work = 0, bytes = 0;
  for (double n = opt.n_min; n <= opt.n_max; n *= 2) {
    const double calls = rounds_at(opt, n) + (n <= 4096 ? 1 : 0);
    const double tiled = 2.0 * n * n * d * blas_multiply_add;
    const double pairs = std::ceil(n / B) * std::ceil(n / B) * block_pair;  // per call of tiled attention
    double call = n * n * d * blas_multiply_add + tiled + n * n * math_call + pairs +
                  (tiled + pairs) * (1 + 0.5) * (1 + 2 / T);
    if (n <= opt.naive_n_max) call += tiled + n * n * (math_call + 2 * fresh_double);
    if (n <= opt.loops_n_max) call += n * n * d + n * n * math_call;
    work += 3.0 * n * d * normal_draw + calls * call;
    const double square = n <= opt.naive_n_max ? 2.0 * n * n : n * n;
    bytes = std::max(bytes, 8.0 * (square + 12.0 * n * d));
  }
  return {bytes, work};
}

// The benchmark checks that tiled attention's extra memory stays under 64 MiB at every n (its
// workers' (B, B) blocks and (B, d) accumulators, and the (n, d) output): a block too large for that
// is refused before the run.
// This benchmark's limits: the course's benchmark limits (cli.hpp), with half as much work again, since
// its default run (n up to 16384, seven contenders of tiled attention, the medians of 3 to 5 rounds) is
// estimated at 1.23 times their work (0.82 of this limit; the C++ side took 73 s, on an estimate of
// about 160 s). The PyTorch side comes on top: the whole default run took about 3 minutes on the
// course's machine (PyTorch's float32 attention alone is about 10 s a call at 16384).
constexpr Limits kLimits{benchmark_limits.bytes, 1.5 * benchmark_limits.multiply_adds};

constexpr double kTiledMemoryClaim = 64.0 * 1024 * 1024;
double tiled_extra_bytes(const Options& opt) {
  const double B = opt.block_size, d = opt.d;
  double largest = 0;
  for (double n = opt.n_min; n <= opt.n_max; n *= 2) largest = n;
  return 8.0 * (opt.threads * (B * B + B * (d + 2.0) + 64) + largest * d);
}

// Naive attention with BLAS: the whole (n, n) matrix of scores, softmax in place.
Matrix naive_blas(const Matrix& q, const Matrix& k, const Matrix& v) {
  const std::size_t n = q.shape(0), S = k.shape(0), d = q.shape(1), dv = v.shape(1);
  Matrix s = Matrix::from_shape({n, S});
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, S, d, 1.0 / std::sqrt(double(d)), q.data(), d,
              k.data(), d, 0.0, s.data(), S);
  for (std::size_t i = 0; i < n; ++i) {
    double* row = &s(i, 0);
    double mx = -INFINITY, sum = 0;
    for (std::size_t j = 0; j < S; ++j) mx = std::max(mx, row[j]);
    for (std::size_t j = 0; j < S; ++j) sum += (row[j] = std::exp(row[j] - mx));
    for (std::size_t j = 0; j < S; ++j) row[j] /= sum;
  }
  Matrix out = Matrix::from_shape({n, dv});
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dv, S, 1.0, s.data(), S, v.data(), dv, 0.0,
              out.data(), dv);
  return out;
}

// Seconds of one call of f.
template <class F>
double time_once(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return seconds_since(start);
}

// A contender: its name and one call, returning its seconds.
struct Contender {
  std::string name;
  std::function<double()> call;
};

// Every contender once per round, in turn; the median seconds of each.
std::map<std::string, double> interleaved(const std::vector<Contender>& contenders, int rounds,
                                          bool warm_up) {
  std::map<std::string, std::vector<double>> seconds;
  if (warm_up)
    for (const Contender& c : contenders) c.call();
  for (int r = 0; r < rounds; ++r)
    for (const Contender& c : contenders) seconds[c.name].push_back(c.call());
  std::map<std::string, double> medians;
  for (const auto& [name, s] : seconds) medians[name] = median(s);
  return medians;
}

// The machine's limits, timed in every round next to the contenders: one large product (1024³, 2 flops
// per multiply-add), OpenBLAS dgemm and sgemm, with one thread and with `threads`. The threads are
// tiled attention's workers (run_on_workers): worker t computes rows [t·m/T, (t+1)·m/T) of C with a
// one-thread OpenBLAS call. (OpenBLAS's own threads are never started: after a call they keep spinning
// on the other core for a while, about 0.1 s, and that slowed the next contenders' second thread —
// measured: the float32 two-thread speed-up at n = 1024 went from 0.9x to 1.8x once they were left out.)
struct PeakProducts {
  static constexpr std::size_t m = 1024;
  explicit PeakProducts(Rng& rng)
      : a(rng.uniform_matrix(m, m, -1, 1)),
        b(rng.uniform_matrix(m, m, -1, 1)),
        af(xt::cast<float>(a)),
        bf(xt::cast<float>(b)),
        c(Matrix::from_shape({m, m})),
        cf(MatrixF::from_shape({m, m})) {}
  // rows [r0, r1) of c = a b
  void dgemm_rows(std::size_t r0, std::size_t r1) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, m, m, 1.0, a.data() + r0 * m, m, b.data(),
                m, 0.0, c.data() + r0 * m, m);
  }
  void sgemm_rows(std::size_t r0, std::size_t r1) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, m, m, 1.0f, af.data() + r0 * m, m,
                bf.data(), m, 0.0f, cf.data() + r0 * m, m);
  }
  // seconds of the whole product, split over `threads` threads by rows
  template <class RowsProduct>
  static double split(int threads, RowsProduct&& rows) {
    const std::size_t T = static_cast<std::size_t>(threads);
    return time_once([&] { run_on_workers(T, [&](std::size_t t) { rows(t * m / T, (t + 1) * m / T); }); });
  }
  double dgemm(int threads) {
    return split(threads, [this](std::size_t r0, std::size_t r1) { dgemm_rows(r0, r1); });
  }
  double sgemm(int threads) {
    return split(threads, [this](std::size_t r0, std::size_t r1) { sgemm_rows(r0, r1); });
  }
  static constexpr double gflop = 2.0 * m * m * m / 1e9;
  Matrix a, b;
  MatrixF af, bf;
  Matrix c;
  MatrixF cf;
};

template <class M>
bool bitwise_equal(const M& a, const M& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(*a.data())) == 0;
}

// One n's medians (seconds; 0 = not run) and checks.
struct Row {
  std::size_t n = 0;
  std::map<std::string, double> s;
  double error_f64 = 0, error_f32 = 0;  // max |tiled - reference|, max |float32 - float64|
  bool threads_bitwise = true;
  std::size_t tiled_bytes = 0;
};

std::string cell(double seconds, int width = 8) {
  return seconds > 0 ? fmt::format("{:>{}.4f}", seconds, width) : fmt::format("{:>{}}", "-", width);
}
std::string gflops(double flops, double seconds) {
  return seconds > 0 ? fmt::format("{:>6.1f}", flops / seconds / 1e9) : fmt::format("{:>6}", "-");
}
std::string percent(double part, double whole) {
  return part > 0 && whole > 0 ? fmt::format("{:>4.0f}%", 100 * part / whole) : fmt::format("{:>5}", "-");
}
std::string ratio(double a, double b) {
  return a > 0 && b > 0 ? fmt::format("{:>5.2f}", a / b) : fmt::format("{:>5}", "-");
}

int run(const Options& opt) {
  if (tiled_extra_bytes(opt) >= kTiledMemoryClaim)
    throw usage_error(fmt::format(
        "--block-size {} --d {} --n-max {} --threads {}: tiled attention would hold {} extra, and this "
        "benchmark checks that it stays under 64 MiB; choose a smaller block",
        opt.block_size, opt.d, opt.n_max, opt.threads, format_bytes(tiled_extra_bytes(opt))));
  require_within_limits(cost_of(opt), "these sizes", kLimits);
  const std::size_t d = opt.d, B = opt.block_size;
  const int T = opt.threads;
  std::unique_ptr<bench::ChildProcess> torch;
  if (!opt.no_pytorch)
    torch = std::make_unique<bench::ChildProcess>(
        std::vector<std::string>{opt.python, opt.script, std::to_string(d)}, "ready bench_12",
        fmt::format("the PyTorch side ({} {})", opt.python, opt.script),
        "give --python / --script, or --no-pytorch");
  Rng rng(opt.common.seed);
  PeakProducts peak(rng);
  fmt::print("Chapter 12 benchmark: tiled attention closer to the machine, d = {}, B = {}\n", d, B);
  fmt::print(
      "Medians over {} rounds ({} from n = 8192 on), every contender once per round in turn{}.\n"
      "GF/s: attention counts 4 n² d flops (its two products), the gemm 2 n² d.\n",
      opt.rounds, std::min(opt.rounds, 3), torch ? ", PyTorch 1.13 included" : "");
  fmt::print(
      "peak: the GF/s of one 1024³ product (OpenBLAS dgemm / sgemm) in the same rounds; \"peak\" columns "
      "are\n"
      "shares of it. \"gemm\": share of the GF/s of Q Kᵀ alone. \"/sdpa\": seconds over PyTorch's.\n\n");

  std::vector<Row> rows;
  for (std::size_t n = opt.n_min; n <= static_cast<std::size_t>(opt.n_max); n *= 2) {
    Row row;
    row.n = n;
    const Matrix q = rng.normal_matrix(n, d), k = rng.normal_matrix(n, d), v = rng.normal_matrix(n, d);
    const MatrixF qf = xt::cast<float>(q), kf = xt::cast<float>(k), vf = xt::cast<float>(v);
    FastAttentionOptions one, scalar, many, fresh_threads;
    one.block_size = scalar.block_size = many.block_size = fresh_threads.block_size = B;
    scalar.vector_exp = false;
    many.threads = fresh_threads.threads = T;
    fresh_threads.fresh_each_call = true;  // new threads and new scratch on every call: the first version
    // the outputs and the checks, once, outside the timing
    Matrix tiled;
    // the memory it holds: what the call allocates (the (n, d) output; the scratch too, the first time)
    // and the scratch every thread kept from earlier calls
    const std::size_t kept = fast_attention_scratch_bytes();
    row.tiled_bytes = kept + memory::extra_bytes_of([&] { tiled = fast_tiled_attention(q, k, v, one); });
    const Matrix reference = n <= static_cast<std::size_t>(opt.naive_n_max)
                                 ? naive_blas(q, k, v)
                                 : fast_tiled_attention(q, k, v, scalar);
    row.error_f64 = max_abs_diff(tiled, reference);
    const MatrixF tiled_f = fast_tiled_attention(qf, kf, vf, one);
    row.error_f32 = max_abs_diff(Matrix(xt::cast<double>(tiled_f)), tiled);
    row.threads_bitwise = bitwise_equal(fast_tiled_attention(q, k, v, many), tiled) &&
                          bitwise_equal(fast_tiled_attention(qf, kf, vf, many), tiled_f) &&
                          bitwise_equal(fast_tiled_attention(q, k, v, fresh_threads), tiled) &&
                          bitwise_equal(fast_tiled_attention(qf, kf, vf, fresh_threads), tiled_f);
    // the contenders, in two groups timed one after the other, each in interleaved rounds: first those
    // that work in memory they keep (the peaks, the gemm into its buffer, the tiled versions, the loops),
    // then those that take fresh (n, n) matrices on every call and give them back (naive attention, and
    // every PyTorch contender: its attention holds the whole (n, n) matrix). Timed in the same rounds,
    // the second group slowed the first: the gemm at n = 4096 took 0.13-0.18 s instead of 0.048 s, with
    // no page fault of its own.
    Matrix s = Matrix::from_shape({n, n});
    std::fill(s.begin(), s.end(), 0.0);  // touched beforehand: the gemm is timed without page faults
    std::vector<Contender> c = {
        {"peak64", [&] { return peak.dgemm(1); }},
        {"peak32", [&] { return peak.sgemm(1); }},
        {"peak64_T", [&] { return peak.dgemm(T); }},
        {"peak32_T", [&] { return peak.sgemm(T); }},
        {"gemm",
         [&] {
           return time_once([&] {
             cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d, 1.0, q.data(), d, k.data(), d, 0.0,
                         s.data(), n);
           });
         }},
        {"tiled_std_exp",
         [&] { return time_once([&] { Matrix o = fast_tiled_attention(q, k, v, scalar); }); }},
        {"tiled64", [&] { return time_once([&] { Matrix o = fast_tiled_attention(q, k, v, one); }); }},
        {"tiled32", [&] { return time_once([&] { MatrixF o = fast_tiled_attention(qf, kf, vf, one); }); }},
        {"tiled64_T", [&] { return time_once([&] { Matrix o = fast_tiled_attention(q, k, v, many); }); }},
        {"tiled32_T", [&] { return time_once([&] { MatrixF o = fast_tiled_attention(qf, kf, vf, many); }); }},
        {"tiled64_T_fresh",
         [&] { return time_once([&] { Matrix o = fast_tiled_attention(q, k, v, fresh_threads); }); }},
        {"tiled32_T_fresh",
         [&] { return time_once([&] { MatrixF o = fast_tiled_attention(qf, kf, vf, fresh_threads); }); }}};
    std::vector<Contender> fresh_memory;
    if (n <= static_cast<std::size_t>(opt.naive_n_max))
      fresh_memory.push_back({"naive", [&] { return time_once([&] { Matrix o = naive_blas(q, k, v); }); }});
    if (n <= static_cast<std::size_t>(opt.loops_n_max))
      c.push_back(
          {"loops", [&] { return time_once([&] { Matrix o = tiled_attention(q, k, v, B, false); }); }});
    if (torch) {
      if (torch->ask(fmt::format("n {}", n)) != "ok")
        throw usage_error("the PyTorch side stopped answering" + torch->said());
      const auto ask = [&](const char* what, int threads) {
        return
            [&torch, what, threads] { return torch->ask_seconds(fmt::format("time {} {}", what, threads)); };
      };
      if (n <= static_cast<std::size_t>(opt.torch64_n_max)) {
        fresh_memory.push_back({"torch_sdpa64", ask("sdpa64", 1)});
        fresh_memory.push_back({"torch_sdpa64_T", ask("sdpa64", T)});
      }
      fresh_memory.push_back({"torch_sdpa32", ask("sdpa32", 1)});
      fresh_memory.push_back({"torch_sdpa32_T", ask("sdpa32", T)});
      if (n <= static_cast<std::size_t>(opt.naive_n_max))
        fresh_memory.push_back({"torch_naive64", ask("naive64", 1)});
    }
    row.s = interleaved(c, rounds_at(opt, n), n <= 4096);
    for (const auto& [name, seconds] : interleaved(fresh_memory, rounds_at(opt, n), n <= 4096))
      row.s[name] = seconds;
    rows.push_back(row);
  }
  const auto at = [](const Row& r, const char* name) { return r.s.count(name) ? r.s.at(name) : 0.0; };

  // GF/s of the peak product in row r: `name` is peak64, peak32, peak64_T or peak32_T
  const auto peak_of = [&](const Row& r, const char* name) {
    return at(r, name) > 0 ? PeakProducts::gflop / at(r, name) : 0.0;
  };
  // share of the peak: (seconds attention would take at the peak's rate) / (its seconds)
  const auto of_peak = [&](const Row& r, const char* peak_name, const char* name) {
    const double f = 4.0 * r.n * r.n * d / 1e9;
    return percent(f / std::max(peak_of(r, peak_name), 1e-300), at(r, name));
  };
  fmt::print("1. float64, one thread\n");
  fmt::print(
      "{:>6} | {:>6} | {:>8} {:>6} | {:>8} {:>6} | {:>8} {:>6} {:>5} {:>5} | {:>8} {:>6} {:>5} {:>5} | "
      "{:>8} {:>8} {:>5} | {:>8} {:>6}\n",
      "n", "peak", "gemm s", "GF/s", "naive s", "GF/s", "std::exp", "GF/s", "gemm", "peak", "tiled s", "GF/s",
      "gemm", "peak", "torch nv", "sdpa64", "/sdpa", "loops s", "GF/s");
  for (const Row& r : rows) {
    const double f = 4.0 * r.n * r.n * d;
    fmt::print(
        "{:>6} | {:>6.1f} | {} {} | {} {} | {} {} {} {} | {} {} {} {} | {} {} {} | {} {}\n", r.n,
        peak_of(r, "peak64"), cell(at(r, "gemm")), gflops(f / 2, at(r, "gemm")), cell(at(r, "naive")),
        gflops(f, at(r, "naive")), cell(at(r, "tiled_std_exp")), gflops(f, at(r, "tiled_std_exp")),
        percent(2 * at(r, "gemm"), at(r, "tiled_std_exp")), of_peak(r, "peak64", "tiled_std_exp"),
        cell(at(r, "tiled64")), gflops(f, at(r, "tiled64")), percent(2 * at(r, "gemm"), at(r, "tiled64")),
        of_peak(r, "peak64", "tiled64"), cell(at(r, "torch_naive64")), cell(at(r, "torch_sdpa64")),
        ratio(at(r, "tiled64"), at(r, "torch_sdpa64")), cell(at(r, "loops")), gflops(f, at(r, "loops")));
  }
  fmt::print("\n2. float32, one thread: sgemm blocks, float exponentials\n");
  fmt::print("{:>6} | {:>6} | {:>8} {:>6} {:>5} {:>7} | {:>8} {:>5} | {:>13}\n", "n", "peak", "tiled s",
             "GF/s", "peak", "vs f64", "sdpa32", "/sdpa", "max |f32-f64|");
  for (const Row& r : rows) {
    const double f = 4.0 * r.n * r.n * d;
    fmt::print("{:>6} | {:>6.1f} | {} {} {} {:>6.2f}x | {} {} | {:>13.1e}\n", r.n, peak_of(r, "peak32"),
               cell(at(r, "tiled32")), gflops(f, at(r, "tiled32")), of_peak(r, "peak32", "tiled32"),
               at(r, "tiled64") / at(r, "tiled32"), cell(at(r, "torch_sdpa32")),
               ratio(at(r, "tiled32"), at(r, "torch_sdpa32")), r.error_f32);
  }
  fmt::print(
      "\n3. {} threads, each taking a contiguous range of query blocks: speed-up over one thread\n"
      "(\"fresh\": the speed-up when each call starts its threads and allocates their scratch anew)\n",
      T);
  fmt::print(
      "{:>6} | {:>6} {:>8} {:>8} {:>6} {:>6} {:>5} | {:>6} {:>8} {:>8} {:>6} {:>6} {:>5} | {:>6} {:>6} "
      "{:>6}\n",
      "n", "peak", "f64 1 s", fmt::format("f64 {} s", T), "speed", "fresh", "peak", "peak", "f32 1 s",
      fmt::format("f32 {} s", T), "speed", "fresh", "peak", "gemm", "sdpa64", "sdpa32");
  for (const Row& r : rows) {
    fmt::print(
        "{:>6} | {:>6.1f} {} {} {:>5.2f}x {:>5.2f}x {} | {:>6.1f} {} {} {:>5.2f}x {:>5.2f}x {} | {:>6} {:>6} "
        "{:>6}\n",
        r.n, peak_of(r, "peak64_T"), cell(at(r, "tiled64")), cell(at(r, "tiled64_T")),
        at(r, "tiled64") / at(r, "tiled64_T"), at(r, "tiled64") / at(r, "tiled64_T_fresh"),
        of_peak(r, "peak64_T", "tiled64_T"), peak_of(r, "peak32_T"), cell(at(r, "tiled32")),
        cell(at(r, "tiled32_T")), at(r, "tiled32") / at(r, "tiled32_T"),
        at(r, "tiled32") / at(r, "tiled32_T_fresh"), of_peak(r, "peak32_T", "tiled32_T"),
        ratio(at(r, "peak64"), at(r, "peak64_T")), ratio(at(r, "torch_sdpa64"), at(r, "torch_sdpa64_T")),
        ratio(at(r, "torch_sdpa32"), at(r, "torch_sdpa32_T")));
  }
  // the checks
  double worst64 = 0, worst32 = 0;
  bool bitwise = true;
  std::size_t tiled_peak = 0;
  for (const Row& r : rows) {
    worst64 = std::max(worst64, r.error_f64);
    worst32 = std::max(worst32, r.error_f32);
    bitwise = bitwise && r.threads_bitwise;
    tiled_peak = std::max(tiled_peak, r.tiled_bytes);
  }
  fmt::print("\nmax |tiled - naive| (float64; tiled with std::exp above --naive-n-max): {:.1e}\n", worst64);
  fmt::print("max |tiled float32 - tiled float64|: {:.1e}\n", worst32);
  fmt::print("{} threads give bitwise the output of one: {}\n", T, bitwise ? "yes" : "NO");
  fmt::print(
      "tiled attention's extra memory at most {} at every n, the (n, d) output and {} of scratch kept "
      "between "
      "calls included ({} 64 MiB)\n",
      format_bytes(tiled_peak), format_bytes(fast_attention_scratch_bytes()),
      tiled_peak < kTiledMemoryClaim ? "under" : "NOT under");
  if (!opt.common.svg_dir.empty()) {
    std::vector<double> ns;
    std::vector<Series> series = {{"gemm Q Kᵀ alone (dgemm)", {}},
                                  {"tiled, std::exp (float64)", {}},
                                  {"tiled, vectorised exp (float64)", {}},
                                  {"tiled, vectorised exp (float32)", {}},
                                  {fmt::format("tiled, float64, {} threads", T), {}}};
    const char* names[] = {"gemm", "tiled_std_exp", "tiled64", "tiled32", "tiled64_T"};
    for (const Row& r : rows) {
      ns.push_back(r.n);
      for (std::size_t i = 0; i < series.size(); ++i) series[i].y.push_back(at(r, names[i]));
    }
    PlotSpec spec;
    spec.title = fmt::format("Time against n, d = {}, B = {} (median seconds, log scale)", d, B);
    spec.x_label = "n (tokens)";
    spec.y_label = "seconds";
    spec.log2_x = true;
    spec.log10_y = true;
    write_line_plot_svg(opt.common.svg_dir, "bench-12-time-vs-n.svg", ns, series, spec);
    fmt::print("wrote bench-12-time-vs-n.svg to {}\n", opt.common.svg_dir);
  }
  return worst64 <= 1e-9 && worst32 <= 1e-4 && bitwise && tiled_peak < kTiledMemoryClaim ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Chapter 12 benchmark: tiled attention (vectorised exp, float32, threads) against the "
      "matrix product, naive attention and PyTorch",
      "bench_12_attention"};
  Options opt;
  // each maximum: the largest value that fits the limits with the other flags at their defaults
  const auto largest = [](int Options::*flag) {
    return largest_within_limits(flag, cost_of, 1, 1 << 30, kLimits);
  };
  add_size_option(app, "--n-min", opt.n_min, "Smallest n (doubled up to --n-max)", largest(&Options::n_max));
  add_size_option(app, "--n-max", opt.n_max, "Largest n", largest(&Options::n_max));
  add_size_option(app, "--d", opt.d, "Width d of queries, keys and values", largest(&Options::d));
  // the largest block whose tiled attention stays under the 64 MiB this benchmark checks
  Options probe;  // the defaults, with the block growing
  for (probe.block_size = 1; tiled_extra_bytes(probe) < kTiledMemoryClaim; ++probe.block_size) {
  }
  const int max_block = probe.block_size - 1;
  add_size_option(
      app, "--block-size", opt.block_size, "Block size B of the tiled versions", 1, max_block,
      "at most the block whose extra memory stays under the 64 MiB this benchmark checks; a small "
      "block costs a fixed time per pair of blocks, so with large n it is refused before the run");
  add_size_option(app, "--rounds", opt.rounds, "Rounds (3 at most from n = 8192 on); medians are reported",
                  largest(&Options::rounds));
  add_size_option(app, "--threads", opt.threads, "Threads of the multi-thread columns", 64);
  add_size_option(app, "--naive-n-max", opt.naive_n_max, "Largest n for naive attention (C++ and PyTorch)",
                  largest(&Options::naive_n_max));
  add_size_option(app, "--loops-n-max", opt.loops_n_max, "Largest n for the (slow) loop version",
                  largest(&Options::loops_n_max));
  add_size_option(app, "--torch64-n-max", opt.torch64_n_max, "Largest n for PyTorch's float64 attention",
                  1 << 30);
  app.add_option("--python", opt.python, "The Python with PyTorch (default /usr/bin/python3)");
  app.add_option("--script", opt.script,
                 "The PyTorch side (default: tools/bench_12_pytorch.py in the source tree)");
  app.add_flag("--no-pytorch", opt.no_pytorch, "Time the C++ side only");
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

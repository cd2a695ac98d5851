// Benchmark of chapter 12: naive attention, tiled attention and the matrix product alone, on the
// same inputs in one run, for n = 256 to 16384 at d = 64 (float64).
//
//   build/bin/bench_12_attention [--n-max N] [--d D] [--block-size B] [--threads T] [--svg DIR]
//
// Reports, for each n: time, GFLOP/s, the fraction of the matrix product's GFLOP/s that attention
// reaches, and the extra memory each version held at its peak (counted by chapter 12's memory
// meter: every operator new, i.e. every Matrix). Not a test: timings depend on the machine and its
// load, so compare the columns of one run with each other (ratios), not with another run.
//
// The four contenders, all computing softmax(Q Kᵀ / √d) V or its first product:
//   gemm          S = Q Kᵀ alone, one OpenBLAS dgemm (xtensor-blas's cblas) into a buffer
//                 allocated beforehand: the best rate BLAS reaches on this shape   2 n² d flops
//   naive (BLAS)  S = Q Kᵀ (dgemm), softmax of every row, O = S V (dgemm)     4 n² d flops
//   tiled (BLAS)  blocks of B queries × B keys: S_ij = Q_i K_jᵀ (dgemm), the online softmax
//                 update, acc_i += P_ij V_j (dgemm); never more than one (B, B) block of scores
//   tiled (loops) the course's reference tiled_attention (solutions/12_...), plain C++ loops
// The attention rows count 4 n² d flops (the two products; the n² exponentials are extra work).
#include "../chapters/12_efficient_attention/memory_meter.hpp"
#include "cli.hpp"
#include "contracts/12_efficient_attention.hpp"
#include "rng.hpp"
#include "svg.hpp"

#include <chrono>
#include <xtensor-blas/xlinalg.hpp>  // also declares cblas_dgemm (xflens/cxxblas/drivers/cblas.h)

extern "C" void openblas_set_num_threads(int num_threads);

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int n_min = 256, n_max = 16384, d = 64, block_size = 256, threads = 1;
  int loops_n_max = 4096;  // the loop version is slow; skip it above this n
};

// What a run needs, estimated from its sizes before it starts (the cost constants are in cli.hpp).
// Alive at the peak: naive attention's two (n, n) matrices (the scores and a copy OpenBLAS's product
// makes; 4.0 GiB at n = 16384, measured), Q, K, Kᵀ, V and two outputs (n, d), and the tiled versions'
// (B, B) block and (B, d) accumulator. The work, for every n from --n-min to --n-max (doubling),
// repeated 5 times up to n = 2048, twice up to 8192, then once: the product (n² d, once more to fill
// its buffer), naive and tiled attention (2 n² d in OpenBLAS and n² exponentials each; the tiled
// block, B² doubles, allocated afresh each time), and once the loop version (2 n² d in plain loops,
// and its own block) up to --loops-n-max.
Cost cost_of(const Options& opt) {
  const double d = opt.d, B = opt.block_size;
  double work = 0, largest = 0;
  for (double n = opt.n_min; n <= opt.n_max; n *= 2) {
    const double repeats = n <= 2048 ? 5 : n <= 8192 ? 2 : 1;
    work += 3.0 * n * d * normal_draw + (1.0 + repeats) * n * n * d * blas_multiply_add +
            repeats * (4.0 * n * n * d * blas_multiply_add + 2.0 * n * n * math_call + B * B * fresh_double);
    if (n <= opt.loops_n_max) work += 2.0 * n * n * d + n * n * math_call + B * B * fresh_double;
    largest = n;
  }
  return {8.0 * (2.0 * largest * largest + 6.0 * largest * d + B * B + B * d), work};
}

// The benchmark checks that tiled attention's extra memory stays under 64 MiB at every n: its (B, B)
// block of scores, (B, d) accumulator, running max and sum, and the (n, d) output. A block too large
// for that would fail the check by construction, so it is refused before the run.
constexpr double kTiledMemoryClaim = 64.0 * 1024 * 1024;
double tiled_extra_bytes(const Options& opt) {
  const double B = opt.block_size, d = opt.d;
  double largest = 0;
  for (double n = opt.n_min; n <= opt.n_max; n *= 2) largest = n;
  return 8.0 * (B * B + B * (d + 2.0) + largest * d);
}

// Naive attention with BLAS: the whole (n, n) matrix of scores, softmax in place.
Matrix naive_blas(const Matrix& q, const Matrix& k_t, const Matrix& v) {
  Matrix s = xt::linalg::dot(q, k_t);  // (n, n)
  const std::size_t n = s.shape(0), m = s.shape(1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.shape(1)));
  for (std::size_t i = 0; i < n; ++i) {
    double* row = &s(i, 0);
    double mx = -INFINITY, sum = 0;
    for (std::size_t j = 0; j < m; ++j) mx = std::max(mx, row[j] * scale);
    for (std::size_t j = 0; j < m; ++j) sum += (row[j] = std::exp(row[j] * scale - mx));
    for (std::size_t j = 0; j < m; ++j) row[j] /= sum;
  }
  return xt::linalg::dot(s, v);  // (n, d_v)
}

// Tiled attention with BLAS on each block: the FlashAttention loop on a CPU.
Matrix tiled_blas(const Matrix& q, const Matrix& k, const Matrix& v, std::size_t B) {
  const std::size_t L = q.shape(0), S = k.shape(0), d = q.shape(1), dv = v.shape(1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  Matrix out = Matrix::from_shape({L, dv});
  std::vector<double> s(B * B), m(B), l(B), acc(B * dv);
  for (std::size_t q0 = 0; q0 < L; q0 += B) {
    const std::size_t bq = std::min(B, L - q0);
    std::fill(m.begin(), m.end(), -INFINITY);
    std::fill(l.begin(), l.end(), 0.0);
    std::fill(acc.begin(), acc.end(), 0.0);
    for (std::size_t k0 = 0; k0 < S; k0 += B) {
      const std::size_t bk = std::min(B, S - k0);
      // 1. s (bq, bk) = scale · Q_i K_jᵀ
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, bq, bk, d, scale, &q(q0, 0), d, &k(k0, 0), d, 0.0,
                  s.data(), bk);
      // 2. online softmax update of each row: new max, rescale, exponentials in place
      for (std::size_t r = 0; r < bq; ++r) {
        double* row = &s[r * bk];
        double mx = m[r];
        for (std::size_t j = 0; j < bk; ++j) mx = std::max(mx, row[j]);
        const double rescale = std::exp(m[r] - mx);
        double sum = 0;
        for (std::size_t j = 0; j < bk; ++j) sum += (row[j] = std::exp(row[j] - mx));
        l[r] = l[r] * rescale + sum;
        for (std::size_t c = 0; c < dv; ++c) acc[r * dv + c] *= rescale;
        m[r] = mx;
      }
      // 3. acc (bq, dv) += P_ij V_j
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, bq, dv, bk, 1.0, s.data(), bk, &v(k0, 0), dv,
                  1.0, acc.data(), dv);
    }
    for (std::size_t r = 0; r < bq; ++r)
      for (std::size_t c = 0; c < dv; ++c) out(q0 + r, c) = acc[r * dv + c] / l[r];
  }
  return out;
}

struct Timing {
  double seconds = 0;
  std::size_t bytes = 0;  // peak extra memory
};

// Best of `repeats` runs (the least disturbed by other work on the machine), and the peak memory.
template <class F>
Timing time_it(int repeats, F&& f) {
  Timing t{1e300, 0};
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const std::size_t bytes = memory::extra_bytes_of(f);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    t.seconds = std::min(t.seconds, elapsed.count());
    t.bytes = std::max(t.bytes, bytes);
  }
  return t;
}

int run(const Options& opt) {
  if (tiled_extra_bytes(opt) >= kTiledMemoryClaim)
    throw usage_error(fmt::format(
        "--block-size {} --d {} --n-max {}: tiled attention would hold {} extra, and this benchmark checks "
        "that it stays under 64 MiB; choose a smaller block",
        opt.block_size, opt.d, opt.n_max, format_bytes(tiled_extra_bytes(opt))));
  require_within_limits(cost_of(opt),
                        fmt::format("--n-min {} --n-max {} --d {} --block-size {} --loops-n-max {}",
                                    opt.n_min, opt.n_max, opt.d, opt.block_size, opt.loops_n_max),
                        benchmark_limits);
  openblas_set_num_threads(opt.threads);
  const std::size_t d = opt.d, B = opt.block_size;
  fmt::print(
      "Chapter 12 benchmark: attention against the matrix product, float64, d = {}, B = {}, {} BLAS "
      "thread(s)\n",
      d, B, opt.threads);
  fmt::print(
      "GFLOP/s: gemm counts 2 n² d flops, attention 4 n² d. \"of gemm\" = attention's GFLOP/s / gemm's.\n");
  fmt::print("memory: the most extra memory held at once, output included.\n\n");
  fmt::print("{:>6} | {:>8} {:>7} {:>9} | {:>8} {:>7} {:>6} {:>9} | {:>8} {:>7} {:>6} {:>9} | {:>8} {:>6}\n",
             "n", "gemm s", "GF/s", "memory", "naive s", "GF/s", "of gemm", "memory", "tiled s", "GF/s",
             "of gemm", "memory", "loops s", "GF/s");
  Rng rng(opt.common.seed);
  std::vector<double> ns;
  Series gemm_s{"gemm Q Kᵀ alone (OpenBLAS dgemm)", {}}, naive_s{"naive attention (BLAS)", {}},
      tiled_s{"tiled attention (BLAS blocks)", {}};
  double worst_error = 0;
  std::size_t tiled_peak = 0, naive_at_max = 0;  // the claims of the chapter, checked at the end
  for (std::size_t n = opt.n_min; n <= static_cast<std::size_t>(opt.n_max); n *= 2) {
    const Matrix q = rng.normal_matrix(n, d), k = rng.normal_matrix(n, d), v = rng.normal_matrix(n, d);
    const Matrix k_t = xt::transpose(k);
    const int repeats = n <= 2048 ? 5 : n <= 8192 ? 2 : 1;
    const double flops = 4.0 * n * n * d;
    Matrix naive, tiled;
    // The product alone, into an (n, n) buffer allocated (and touched) beforehand, so it is timed at
    // the best rate OpenBLAS reaches for this shape.
    Matrix s;
    const std::size_t s_bytes = memory::extra_bytes_of([&] { s = xt::linalg::dot(q, k_t); });
    Timing g = time_it(repeats, [&] {
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, d, 1.0, q.data(), d, k_t.data(), n, 0.0,
                  s.data(), n);
    });
    g.bytes = s_bytes;
    s = Matrix();  // free it before the others run
    const Timing a = time_it(repeats, [&] { naive = naive_blas(q, k_t, v); });
    const Timing t = time_it(repeats, [&] { tiled = tiled_blas(q, k, v, B); });
    worst_error = std::max(worst_error, max_abs_diff(naive, tiled));
    tiled_peak = std::max(tiled_peak, t.bytes);
    naive_at_max = a.bytes;
    const double gemm_gf = flops / 2 / g.seconds / 1e9, naive_gf = flops / a.seconds / 1e9,
                 tiled_gf = flops / t.seconds / 1e9;
    std::string loops = fmt::format("{:>8} {:>6}", "-", "-");
    if (n <= static_cast<std::size_t>(opt.loops_n_max)) {
      const Timing r = time_it(1, [&] { Matrix o = tiled_attention(q, k, v, B, false); });
      loops = fmt::format("{:>8.3f} {:>6.2f}", r.seconds, flops / r.seconds / 1e9);
    }
    fmt::print(
        "{:>6} | {:>8.4f} {:>7.2f} {:>9} | {:>8.4f} {:>7.2f} {:>6.0f}% {:>9} | {:>8.4f} {:>7.2f} {:>6.0f}% "
        "{:>9} | "
        "{}\n",
        n, g.seconds, gemm_gf, format_bytes(g.bytes), a.seconds, naive_gf, 100 * naive_gf / gemm_gf,
        format_bytes(a.bytes), t.seconds, tiled_gf, 100 * tiled_gf / gemm_gf, format_bytes(t.bytes), loops);
    std::fflush(stdout);
    ns.push_back(n);
    gemm_s.y.push_back(g.seconds);
    naive_s.y.push_back(a.seconds);
    tiled_s.y.push_back(t.seconds);
  }
  fmt::print("\nmax |naive - tiled| over all n: {:.1e}\n", worst_error);
  fmt::print(
      "tiled attention's extra memory at most {} at every n ({} 64 MiB); naive attention at n = {}: {}\n",
      format_bytes(tiled_peak), tiled_peak < 64.0 * 1024 * 1024 ? "under" : "NOT under", ns.back(),
      format_bytes(naive_at_max));
  if (!opt.common.svg_dir.empty()) {
    PlotSpec spec;
    spec.title =
        fmt::format("Time against n, d = {}, float64, {} thread(s) (seconds, log scale)", d, opt.threads);
    spec.x_label = "n (tokens)";
    spec.y_label = "seconds";
    spec.log2_x = true;
    spec.log10_y = true;
    write_line_plot_svg(opt.common.svg_dir, "bench-12-time-vs-n.svg", ns, {gemm_s, naive_s, tiled_s}, spec);
    fmt::print("wrote bench-12-time-vs-n.svg to {}\n", opt.common.svg_dir);
  }
  return worst_error <= 1e-9 && tiled_peak < 64.0 * 1024 * 1024 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 12 benchmark: naive and tiled attention against the matrix product",
               "bench_12_attention"};
  Options opt;
  // each maximum: the largest value that fits the limits with the other flags at their defaults
  const auto largest = [](int Options::*flag) {
    return largest_within_limits(flag, cost_of, 1, 1 << 30, benchmark_limits);
  };
  add_size_option(app, "--n-min", opt.n_min, "Smallest n (doubled up to --n-max)", largest(&Options::n_max));
  add_size_option(app, "--n-max", opt.n_max, "Largest n", largest(&Options::n_max));
  add_size_option(app, "--d", opt.d, "Width d of queries, keys and values", largest(&Options::d));
  // the largest block whose tiled attention stays under the 64 MiB this benchmark checks
  Options probe;  // the defaults, with the block growing
  for (probe.block_size = 1; tiled_extra_bytes(probe) < kTiledMemoryClaim; ++probe.block_size) {
  }
  const int max_block = probe.block_size - 1;
  add_size_option(app, "--block-size", opt.block_size, "Block size B of the tiled versions", 1,
                  std::min(max_block, largest(&Options::block_size)),
                  "at most the block whose extra memory stays under the 64 MiB this benchmark checks");
  add_size_option(app, "--threads", opt.threads, "OpenBLAS threads", 256);
  add_size_option(app, "--loops-n-max", opt.loops_n_max, "Largest n for the (slow) loop version",
                  largest(&Options::n_max));
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

// Benchmark of chapter 10: the time of one layer of self-attention, of an RNN and of a convolution
// as the sequence grows, n = 64 to 4096, at width d (float64, OpenBLAS).
//
//   build/bin/bench_10_layers [--d D] [--kernel K] [--n-max N] [--threads T] [--svg DIR]
//
// Each layer maps (n, d) to (n, d) with its own d x d weights, all products through OpenBLAS:
//   self-attention  Q, K, V = X W (3 dgemm), S = Q Kᵀ / √d (dgemm), row softmax, S V (dgemm)
//                   3 n d² + 2 n² d multiply-adds, all parallel
//   RNN             X W_ihᵀ (one dgemm), then n steps h_t = tanh(a_t + W_hh h_(t-1)) (dgemv each)
//                   2 n d² multiply-adds, n of them one after the other
//   convolution     kernel K: Σ_j shift_j(X) W_j (K dgemm)          K n d² multiply-adds, parallel
// Not a test: timings depend on the machine and its load. Compare the columns of one run.
#include "cli.hpp"
#include "rng.hpp"
#include "svg.hpp"

#include <chrono>
#include <xtensor-blas/xlinalg.hpp>  // also declares the cblas functions (xflens/cxxblas/drivers/cblas.h)

extern "C" void openblas_set_num_threads(int num_threads);

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int d = 512, kernel = 3, n_min = 64, n_max = 4096, threads = 1;
};

// What a run needs, estimated from its sizes before it starts (the cost constants are in cli.hpp).
// Alive at the peak: the largest attention layer's (n, n) scores and five (n, d) matrices, and the
// 3 + K weights (d, d). The work, for every n from --n-min to --n-max (doubling), repeated 7 times
// (3 above n = 1024): the three layers' products in OpenBLAS (3 n d² + 2 n² d, 2 n d², K n d²),
// attention's n² exponentials and the RNN's n d tanh; and the normal draws of the weights and inputs.
Cost cost_of(const Options& opt) {
  const double d = opt.d, K = opt.kernel;
  double work = (5.0 + K) * d * d * normal_draw, largest = 0;
  for (double n = opt.n_min; n <= opt.n_max; n *= 2) {
    const double repeats = n <= 1024 ? 7 : 3;
    const double blas = 3 * n * d * d + 2 * n * n * d + 2 * n * d * d + K * n * d * d;
    work += n * d * normal_draw + repeats * (blas * blas_multiply_add + (n * n + n * d) * math_call);
    largest = n;
  }
  return {8.0 * (largest * largest + 5.0 * largest * d + (3.0 + K) * d * d), work};
}

// One self-attention layer.
Matrix attention_layer(const Matrix& x, const Matrix& w_q, const Matrix& w_k, const Matrix& w_v) {
  const Matrix q = xt::linalg::dot(x, w_q), k = xt::linalg::dot(x, w_k), v = xt::linalg::dot(x, w_v);
  const std::size_t n = x.shape(0), d = x.shape(1);
  Matrix s = Matrix::from_shape({n, n});
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d, 1.0 / std::sqrt(double(d)), q.data(), d,
              k.data(), d, 0.0, s.data(), n);
  for (std::size_t i = 0; i < n; ++i) {
    double* row = &s(i, 0);
    double mx = -INFINITY, sum = 0;
    for (std::size_t j = 0; j < n; ++j) mx = std::max(mx, row[j]);
    for (std::size_t j = 0; j < n; ++j) sum += (row[j] = std::exp(row[j] - mx));
    for (std::size_t j = 0; j < n; ++j) row[j] /= sum;
  }
  return xt::linalg::dot(s, v);
}

// One RNN layer: the input projection at once, then the n sequential steps.
Matrix rnn_layer(const Matrix& x, const Matrix& w_ih_t, const Matrix& w_hh) {
  Matrix a = xt::linalg::dot(x, w_ih_t);  // (n, d): x_t W_ih^T for every t, in parallel
  const std::size_t n = x.shape(0), d = x.shape(1);
  std::vector<double> h(d, 0.0);
  for (std::size_t t = 0; t < n; ++t) {
    double* row = &a(t, 0);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, d, d, 1.0, w_hh.data(), d, h.data(), 1, 1.0, row, 1);
    for (std::size_t i = 0; i < d; ++i) h[i] = row[i] = std::tanh(row[i]);
  }
  return a;
}

// One convolution layer, kernel K, padding K/2: out[t] = Σ_j x[t + j - K/2] W_j.
Matrix conv_layer(const Matrix& x, const std::vector<Matrix>& w) {
  const std::size_t n = x.shape(0), d = x.shape(1), K = w.size(), r = K / 2;
  Matrix out = xt::zeros<double>({n, d});
  for (std::size_t j = 0; j < K; ++j) {
    // rows [lo, hi) of the output read rows [lo + j - r, hi + j - r) of x
    const std::size_t lo = j < r ? r - j : 0, hi = std::min(n, n + r - j);
    if (hi <= lo) continue;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, hi - lo, d, d, 1.0, &x(lo + j - r, 0), d,
                w[j].data(), d, 1.0, &out(lo, 0), d);
  }
  return out;
}

// Best of `repeats` runs.
template <class F>
double seconds(int repeats, F&& f) {
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count());
  }
  return best;
}

int run(const Options& opt) {
  require_within_limits(
      cost_of(opt),
      fmt::format("--n-min {} --n-max {} --d {} --kernel {}", opt.n_min, opt.n_max, opt.d, opt.kernel),
      benchmark_limits);
  openblas_set_num_threads(opt.threads);
  const std::size_t d = opt.d, K = opt.kernel;
  Rng rng(opt.common.seed);
  const double a = 1.0 / std::sqrt(static_cast<double>(d));
  const Matrix w_q = a * rng.normal_matrix(d, d), w_k = a * rng.normal_matrix(d, d),
               w_v = a * rng.normal_matrix(d, d);
  const Matrix w_ih_t = a * rng.normal_matrix(d, d), w_hh = 0.5 * a * rng.normal_matrix(d, d);
  std::vector<Matrix> w_conv;
  for (std::size_t j = 0; j < K; ++j) w_conv.push_back(a * rng.normal_matrix(d, d));

  fmt::print(
      "Chapter 10 benchmark: one layer, float64, d = {}, conv kernel {}, {} BLAS thread(s); best of "
      "repeats\n",
      d, K, opt.threads);
  fmt::print("{:>6} | {:>13} {:>13} {:>13} | {:>16} {:>15}\n", "n", "attention ms", "RNN ms", "conv ms",
             "attention / RNN", "attention / conv");
  std::vector<double> ns;
  Series att{"self-attention", {}}, rnn{"RNN", {}}, conv{"convolution", {}};
  double crossover = 0;
  for (std::size_t n = opt.n_min; n <= static_cast<std::size_t>(opt.n_max); n *= 2) {
    const Matrix x = rng.normal_matrix(n, d);
    const int repeats = n <= 1024 ? 7 : 3;
    Matrix sink;
    const double ta = seconds(repeats, [&] { sink = attention_layer(x, w_q, w_k, w_v); });
    const double tr = seconds(repeats, [&] { sink = rnn_layer(x, w_ih_t, w_hh); });
    const double tc = seconds(repeats, [&] { sink = conv_layer(x, w_conv); });
    if (crossover == 0 && ta > tr) crossover = static_cast<double>(n);
    fmt::print("{:>6} | {:>13.3f} {:>13.3f} {:>13.3f} | {:>16.2f} {:>15.2f}\n", n, 1e3 * ta, 1e3 * tr,
               1e3 * tc, ta / tr, ta / tc);
    std::fflush(stdout);
    ns.push_back(static_cast<double>(n));
    att.y.push_back(1e3 * ta);
    rnn.y.push_back(1e3 * tr);
    conv.y.push_back(1e3 * tc);
  }
  if (crossover > 0)
    fmt::print("\nattention became slower than the RNN from n = {:.0f} on (d = {})\n", crossover, d);
  else
    fmt::print("\nattention stayed faster than the RNN up to n = {} (d = {})\n", opt.n_max, d);
  if (!opt.common.svg_dir.empty()) {
    PlotSpec spec;
    spec.title =
        fmt::format("Time of one layer, d = {}, float64, {} thread(s) (ms, log scale)", d, opt.threads);
    spec.x_label = "n (positions)";
    spec.y_label = "milliseconds";
    spec.log2_x = true;
    spec.log10_y = true;
    write_line_plot_svg(opt.common.svg_dir, "bench-10-time-vs-n.svg", ns, {att, rnn, conv}, spec);
    fmt::print("wrote bench-10-time-vs-n.svg to {}\n", opt.common.svg_dir);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 10 benchmark: one layer of attention, RNN and convolution as n grows",
               "bench_10_layers"};
  Options opt;
  // each maximum: the largest value that fits the limits with the other flags at their defaults
  const auto largest = [](int Options::*flag) {
    return largest_within_limits(flag, cost_of, 1, 1 << 30, benchmark_limits);
  };
  add_size_option(app, "--d", opt.d, "Width d of every position", largest(&Options::d));
  add_size_option(app, "--kernel", opt.kernel, "Kernel width of the convolution", largest(&Options::kernel));
  add_size_option(app, "--n-min", opt.n_min, "Smallest n (doubled up to --n-max)", largest(&Options::n_max));
  add_size_option(app, "--n-max", opt.n_max, "Largest n", largest(&Options::n_max));
  add_size_option(app, "--threads", opt.threads, "OpenBLAS threads", 256);
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

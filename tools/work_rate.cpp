// tools/work_rate.cpp: how long the steps that chapter programs are made of take on this machine.
// Built and run by tools/measure_work_rate.sh; the numbers behind work_limit in common/cli.hpp.
#include "print.hpp"
#include "rng.hpp"
#include "svg.hpp"

#include <fmt/format.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <xtensor-blas/xlinalg.hpp>

extern "C" void openblas_set_num_threads(int num_threads);

using namespace course;

// Nanoseconds per step of f, which does `steps` steps: the best of 3 runs.
template <class F>
double ns_per_step(double steps, F&& f) {
  double best = 1e300;
  for (int r = 0; r < 3; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count());
  }
  return best / steps * 1e9;
}

int main() {
  openblas_set_num_threads(1);
  Rng rng(1);
  const std::size_t n = 300;
  const Matrix a = rng.normal_matrix(n, n), b = rng.normal_matrix(n, n);
  Matrix c = Matrix::from_shape({n, n});
  volatile double sink = 0;
  // 1. a multiply-add in a plain loop over xtensor elements, as the reference solutions write them
  const double madd = ns_per_step(double(n) * n * n, [&] {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::size_t k = 0; k < n; ++k) s += a(i, k) * b(k, j);
        c(i, j) = s;
      }
    sink = c(1, 1);
  });
  // 1b. the same loop (order i, p, j, as the reference matmul) on operands far larger than the cache:
  //     (5, 6) x (6, 2e6), each row of the product and of b streamed from memory
  const std::size_t wide = 2000000;
  const Matrix x = rng.normal_matrix(5, 6), w = rng.normal_matrix(6, wide);
  const double streamed = ns_per_step(5.0 * 6 * wide, [&] {
    Matrix y = xt::zeros<double>({std::size_t{5}, wide});
    for (std::size_t i = 0; i < 5; ++i)
      for (std::size_t p = 0; p < 6; ++p)
        for (std::size_t j = 0; j < wide; ++j) y(i, j) += x(i, p) * w(p, j);
    sink = y(1, 1);
  });
  // 2. a multiply-add inside OpenBLAS's dgemm, one thread
  const std::size_t nb = 1000;
  const Matrix ab = rng.normal_matrix(nb, nb), bb = rng.normal_matrix(nb, nb);
  const double blas =
      ns_per_step(double(nb) * nb * nb, [&] { sink = Matrix(xt::linalg::dot(ab, bb))(1, 1); });
  // 3. random numbers, exp, printing
  const std::size_t m = 4000000;
  const double normal = ns_per_step(m, [&] { sink = rng.normal_matrix(m, 1)(7, 0); });
  const double uniform = ns_per_step(m, [&] { sink = rng.uniform_matrix(m, 1, -1.0, 1.0)(7, 0); });
  const double exp = ns_per_step(m, [&] {
    double s = 0;
    for (std::size_t i = 0; i < m; ++i) s += std::exp(-1e-7 * i);
    sink = s;
  });
  const double pow = ns_per_step(m, [&] {
    double s = 0;
    for (std::size_t i = 0; i < m; ++i) s += std::sin(std::pow(10000.0, -1e-7 * i));
    sink = s;
  });
  // a double newly allocated and zeroed (page faults and memset): large matrices cost this per entry
  const std::size_t big = 32 * 1024 * 1024;  // 256 MiB
  const double fresh = ns_per_step(big, [&] {
    sink = Matrix(xt::zeros<double>({big, std::size_t{1}}))(7, 0);
  });
  // printing: print_matrix and print_heatmap of a (20000, 10) matrix into /dev/null
  const Matrix p = rng.uniform_matrix(20000, 10, 0.0, 1.0);
  std::FILE* saved = stdout;
  const double printed = ns_per_step(2.0 * p.size(), [&] {
    stdout = std::fopen("/dev/null", "w");
    print_matrix("p", p);
    print_heatmap("p", p, {}, {});
    std::fclose(stdout);
    stdout = saved;
  });
  // one cell of an SVG heatmap (write_heatmap_svg), written to a temporary directory
  const std::string dir = std::filesystem::temp_directory_path() / "course-work-rate";
  const double svg_cell = ns_per_step(p.size(), [&] { write_heatmap_svg(dir, "p.svg", p, HeatmapSpec{}); });
  std::filesystem::remove_all(dir);
  fmt::print("one step, in nanoseconds and in multiply-adds of a plain loop:\n");
  fmt::print("  multiply-add, plain loop      {:8.2f} ns   1\n", madd);
  fmt::print("  multiply-add, from memory     {:8.2f} ns   {:.1f}\n", streamed, streamed / madd);
  fmt::print("  multiply-add, OpenBLAS dgemm  {:8.2f} ns   {:.2f}\n", blas, blas / madd);
  fmt::print("  normal random draw            {:8.2f} ns   {:.1f}\n", normal, normal / madd);
  fmt::print("  uniform random draw           {:8.2f} ns   {:.1f}\n", uniform, uniform / madd);
  fmt::print("  exp                           {:8.2f} ns   {:.1f}\n", exp, exp / madd);
  fmt::print("  sin(pow(...))                 {:8.2f} ns   {:.1f}\n", pow, pow / madd);
  fmt::print("  fresh double (allocated, 0)   {:8.2f} ns   {:.1f}\n", fresh, fresh / madd);
  fmt::print("  SVG heatmap cell              {:8.2f} ns   {:.0f}\n", svg_cell, svg_cell / madd);
  fmt::print("  printed number                {:8.2f} ns   {:.0f}\n", printed, printed / madd);
}

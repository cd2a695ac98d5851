// Chapter 01 — tensors with xtensor: shapes, broadcasting, the matrix product and a numerically
// stable softmax, plus the lazy keep_dims trap of xtensor 0.24 and its fix.
//
//   build/bin/ch01_tensors [--rows N] [--cols M] [--speed] [--seed S] [--svg DIR] [--no-color]
//
// Each section computes into a named result (compute_*), then prints and draws it (show_*); the
// closing self_checks() read those results and nothing else.
#include "01_tensors/contract.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "linalg.hpp"  // product: the course's own product, OpenBLAS's dgemm
#include "print.hpp"
#include "rng.hpp"

#include <xtensor-blas/xlinalg.hpp>

#include <chrono>
#include <vector>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int rows = 3;        // rows of the random score matrix
  int cols = 5;        // its columns
  bool speed = false;  // --speed: time matmul against BLAS (timings differ run to run: off by default)
};

// --speed times n x n products for these n, each version best of kSpeedRepeats runs.
const std::vector<std::size_t> kSpeedSizes = {64, 128, 256, 512};
constexpr int kSpeedRepeats = 3;

// What a run needs, estimated from its sizes before it starts: a few (rows, cols) matrices alive at
// once (the cost constants are in cli.hpp). The work per score: drawing it into fresh matrices, its
// exponential, printing it twice (matrix and heatmap) and, with --svg, drawing it.
Cost cost_of(const Options& opt) {
  const double cells = static_cast<double>(opt.rows) * opt.cols;
  const double figure = Figures(opt.common).enabled() ? svg_cell : 0.0;
  Cost cost{8.0 * 4.0 * cells,
            cells * (normal_draw + 3.0 * fresh_double + math_call + 2.0 * printed_number + figure)};
  if (opt.speed) {
    // --speed: two random (n, n) factors and two products per size, each product repeated
    for (const std::size_t n : kSpeedSizes) {
      const double n3 = static_cast<double>(n) * n * n, n2 = static_cast<double>(n) * n;
      cost.multiply_adds += kSpeedRepeats * n3 * (1.0 + blas_multiply_add) + 2.0 * n2 * uniform_draw;
      cost.bytes = std::max(cost.bytes, 8.0 * 4.0 * n2);
    }
  }
  return cost;
}

// The flags, each setting a field of Options (the sizes up to what fits the limits, cost_of).
void add_flags(CLI::App& app, Options& opt) {
  add_size_flag(app, "--rows", opt, &Options::rows, "Rows of the random score matrix", cost_of);
  add_size_flag(app, "--cols", opt, &Options::cols, "Columns of the random score matrix", cost_of);
  app.add_flag("--speed", opt.speed,
               "Also time matmul against BLAS on n x n products, n = 64 to 512, in GFLOP/s (timings vary "
               "from run to run)");
  add_common_options(app, opt.common, /*interop=*/false);
}

// 1. Shapes and broadcasting: a (2, 3) matrix plus a (3,) row and a (2, 1) column. Broadcasting lines
//    the shapes up from the right and repeats an axis that is missing or 1:
//      (2, 3) + (3,)   -> (2, 3):  (a + row)[i][j] = a[i][j] + row[j]
//      (2, 3) + (2, 1) -> (2, 3):  (a + col)[i][j] = a[i][j] + col[i][0]
// Nothing here is checked later, so this one function computes, then prints.
void show_broadcasting() {
  const Matrix a = {{1, 2, 3}, {4, 5, 6}};
  const Vector row = {10, 20, 30};
  const Matrix col = {{100}, {200}};
  const Matrix a_plus_row = a + row;
  const Matrix a_plus_col = a + col;

  print_section("1. Shapes and broadcasting");
  print_matrix("a", a);
  print_vector("row", row);
  print_matrix("col", col);
  fmt::print("Broadcasting lines shapes up from the right; an axis that is missing or 1 is repeated:\n");
  print_matrix("a + row      (2, 3) + (3,)", a_plus_row);
  print_matrix("a + col      (2, 3) + (2, 1)", a_plus_col);
}

// 2. The matrix product: a small one to read, and a random one against OpenBLAS.
struct MatmulResult {
  Matrix a, b;        // (2, 3) and (3, 2): the a of section 1
  Matrix product;     // matmul(a, b), (2, 2)
  double blas_error;  // max |matmul(x, y) - xt::linalg::dot(x, y)|, x (64, 48) and y (48, 32) random
};

// matmul(a, b)[i][j] = sum over p of a[i][p] b[p][j]. Our three loops add the products in order p =
// 0, 1, ...; OpenBLAS adds them in another order, so the last bits may differ.
MatmulResult compute_matmul(Rng& rng) {
  MatmulResult r;
  r.a = {{1, 2, 3}, {4, 5, 6}};
  r.b = {{7, 8}, {9, 10}, {11, 12}};
  r.product = matmul(r.a, r.b);
  const Matrix x = rng.uniform_matrix(64, 48, -1.0, 1.0);
  const Matrix y = rng.uniform_matrix(48, 32, -1.0, 1.0);
  const Matrix ours = matmul(x, y);
  const Matrix blas = xt::linalg::dot(x, y);
  r.blas_error = max_abs_diff(ours, blas);
  return r;
}

void show_matmul(const MatmulResult& r) {
  print_section("2. The matrix product");
  print_matrix("b", r.b, {}, {}, 0);
  print_matrix("matmul(a, b)      (2, 3) x (3, 2)", r.product, {}, {}, 0);
  fmt::print("random (64, 48) x (48, 32): matmul and xt::linalg::dot (OpenBLAS) computed\n");
}

// 3. Softmax of random scores, row by row:  p[i][j] = exp(s[i][j] - m_i) / sum_k exp(s[i][k] - m_i),
//    m_i the largest score of row i.
struct SoftmaxResult {
  Matrix scores;   // (rows, cols), each entry 2 N(0, 1)
  Matrix weights;  // softmax_rows(scores), (rows, cols): each row sums to 1
};

SoftmaxResult compute_softmax(const Options& opt, Rng& rng) {
  SoftmaxResult r;
  r.scores = 2.0 * rng.normal_matrix(opt.rows, opt.cols);
  r.weights = softmax_rows(r.scores);
  return r;
}

void show_softmax(const SoftmaxResult& r, Figures& figures) {
  print_section("3. Softmax, row by row");
  print_matrix("scores", r.scores);
  print_heatmap("softmax_rows(scores)", r.weights, {}, {});
  figures.heatmap("01-softmax.svg", r.weights,
                  heatmap_spec("softmax_rows(scores): each row sums to 1", {}, {}, "row", "column"));
}

// 4. Why softmax subtracts the row maximum: exp(10000) overflows to inf, and inf / inf is NaN.
struct LargeScoresResult {
  Matrix s;       // (1, 3): 10000, 9999, 9998
  Matrix naive;   // exp(s) / sum(exp(s)) straight from the formula: NaN
  Matrix stable;  // softmax_rows(s) = softmax(s - 10000) = softmax([0, -1, -2])
};

LargeScoresResult compute_large_scores() {
  LargeScoresResult r;
  r.s = {{10000, 9999, 9998}};
  r.naive = xt::exp(r.s);  // inf, inf, inf
  const double total = xt::sum(r.naive)();
  r.naive /= total;  // inf / inf = NaN
  r.stable = softmax_rows(r.s);
  return r;
}

// A weight with four decimals; a NaN as "nan". (x86's inf / inf is a NaN with its sign bit set,
// which fmt would print as "-nan".)
std::string weight_text(double x) {
  if (std::isnan(x)) return "nan";
  return fmt::format("{:.4f}", x);
}

void show_large_scores(const LargeScoresResult& r) {
  print_section("4. Large scores: why softmax subtracts the row maximum");
  print_matrix("s", r.s, {}, {}, 0);
  fmt::print("naive exp(s) / sum(exp(s)):   [{}, {}, {}]   (exp(10000) = inf, and inf / inf = nan)\n",
             weight_text(r.naive(0, 0)), weight_text(r.naive(0, 1)), weight_text(r.naive(0, 2)));
  fmt::print("softmax_rows(s) = softmax(s - 10000) = softmax([0, -1, -2]):   [{:.4f}, {:.4f}, {:.4f}]\n",
             r.stable(0, 0), r.stable(0, 1), r.stable(0, 2));
}

// 5. The lazy keep_dims trap (trap 1 in CONTRIBUTING.md) and its fix, on exp(s - row max):
//      trap:  xt::exp(s - xt::amax(s, {1}, xt::keep_dims))            a lazy reducer inside the expression
//      fix:   Matrix m = xt::amax(s, {1}, xt::keep_dims); xt::exp(s - m)   the reducer evaluated first
struct KeepDimsResult {
  Matrix s;         // (3, 3)
  Matrix trap;      // (3, 3): wrong in xtensor 0.24.3
  Matrix fixed;     // (3, 3)
  Matrix expected;  // (3, 3): exp(s[i][j] - max_k s[i][k]) by plain loops
};

KeepDimsResult compute_keep_dims() {
  KeepDimsResult r;
  r.s = {{1, 2, 3}, {4, 5, 6}, {7, 8, 20}};
  // The 3 x 3 scores sit at the top of a 12 x 3 buffer of zeros: the trap reads past the end of its
  // input, and here those reads land in memory we own (in your code they read garbage).
  Matrix buffer = xt::zeros<double>({12, 3});
  xt::view(buffer, xt::range(0, 3), xt::all()) = r.s;
  auto s = xt::view(buffer, xt::range(0, 3), xt::all());

  // The obvious one-liner: a lazy reducer with keep_dims inside the expression.
  r.trap = xt::exp(s - xt::amax(s, {1}, xt::keep_dims));
  // The fix: evaluate the reducer into a container first, then use it.
  const Matrix row_max = xt::amax(s, {1}, xt::keep_dims);
  r.fixed = xt::exp(s - row_max);

  // exp(s - max) by hand, row by row
  r.expected = Matrix::from_shape(r.s.shape());
  for (std::size_t i = 0; i < 3; ++i) {
    double largest = r.s(i, 0);
    for (std::size_t j = 1; j < 3; ++j) largest = std::max(largest, r.s(i, j));
    for (std::size_t j = 0; j < 3; ++j) r.expected(i, j) = std::exp(r.s(i, j) - largest);
  }
  return r;
}

void show_keep_dims(const KeepDimsResult& r) {
  print_section("5. The keep_dims trap in xtensor 0.24");
  print_matrix("s", r.s, {}, {}, 0);
  print_matrix("trap:  xt::exp(s - xt::amax(s, {1}, xt::keep_dims))", r.trap, {}, {}, 4);
  print_matrix("fix:   m = xt::amax(s, {1}, xt::keep_dims);  xt::exp(s - m)", r.fixed, {}, {}, 4);
}

// 6. (--speed) How fast: chapter 01's loops against BLAS on n x n products. An n x n product is n³
//    multiply-adds, 2 n³ floating-point operations; GFLOP/s = 2 n³ / seconds / 1e9. The loops run
//    one multiply-add after another in the order of the formula; OpenBLAS's dgemm (the course's
//    product(), common/linalg.hpp, on one thread) works on blocks that fit the caches, with vector
//    instructions. Timings differ from run to run, so only this flag shows them.
struct SpeedRow {
  std::size_t n;
  double loop_seconds, blas_seconds;  // best of kSpeedRepeats runs each
  double error;                       // max |matmul - product|
};

template <class F>
double best_seconds(F&& f) {
  double best = 1e300;
  for (int r = 0; r < kSpeedRepeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count());
  }
  return best;
}

std::vector<SpeedRow> compute_speed(Rng& rng) {
  std::vector<SpeedRow> rows;
  for (const std::size_t n : kSpeedSizes) {
    const Matrix a = rng.uniform_matrix(n, n, -1.0, 1.0), b = rng.uniform_matrix(n, n, -1.0, 1.0);
    Matrix loop, blas;
    SpeedRow row{n, 0, 0, 0};
    row.loop_seconds = best_seconds([&] { loop = matmul(a, b); });
    row.blas_seconds = best_seconds([&] { blas = product(a, b); });
    row.error = max_abs_diff(loop, blas);
    rows.push_back(row);
  }
  return rows;
}

void show_speed(const std::vector<SpeedRow>& rows) {
  print_section("6. How fast: matmul's loops against BLAS (--speed; timings vary from run to run)");
  fmt::print("{:>5}  {:>11} {:>9}  {:>11} {:>9}  {:>11}  {:>20}\n", "n", "matmul s", "GFLOP/s", "BLAS s",
             "GFLOP/s", "speed-up", "max |matmul - BLAS|");
  for (const SpeedRow& r : rows) {
    const double flops = 2.0 * static_cast<double>(r.n) * r.n * r.n;
    fmt::print("{:>5}  {:>11.5f} {:>9.2f}  {:>11.5f} {:>9.2f}  {:>10.1f}x  {:>20.1e}\n", r.n, r.loop_seconds,
               flops / r.loop_seconds / 1e9, r.blas_seconds, flops / r.blas_seconds / 1e9,
               r.loop_seconds / r.blas_seconds, r.error);
  }
  fmt::print(
      "The same sums, added in another order: they agree to rounding. The course's own layers\n"
      "(linear, attention, their backward passes) multiply with BLAS; your matmul is the lesson.\n");
}

// The closing self-checks: every claim of the walkthrough, from the numbers it computed.
int self_checks(const MatmulResult& products, const SoftmaxResult& softmax, const LargeScoresResult& large,
                const KeepDimsResult& keep_dims) {
  print_section("Self-checks");
  SelfChecks checks;
  checks.below("matmul agrees with xt::linalg::dot (OpenBLAS)", products.blas_error, 1e-12);
  checks.close("rows sum to 1", max_row_sum_error(softmax.weights), 1e-12);
  checks.expect("large scores give no NaN", !xt::any(xt::isnan(large.stable)));
  checks.close("fix matches exp(s - row max) by hand", max_abs_diff(keep_dims.fixed, keep_dims.expected),
               1e-15);
  const double trap_error = max_abs_diff(keep_dims.trap, keep_dims.expected);
  checks.expect("the trap is wrong in this xtensor", trap_error > 1e-3,
                fmt::format("max error {:.1e}", trap_error));
  return checks.exit_code();
}

int run(const Options& opt) {
  require_within_limits(cost_of(opt), fmt::format("a {} x {} score matrix", opt.rows, opt.cols));
  print_title("Chapter 01 · Tensors with xtensor");
  print_config("scores", fmt::format("{} x {} (--rows, --cols)", opt.rows, opt.cols));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  Figures figures(opt.common);
  show_broadcasting();
  const MatmulResult products = compute_matmul(rng);
  show_matmul(products);
  const SoftmaxResult softmax = compute_softmax(opt, rng);
  show_softmax(softmax, figures);
  const LargeScoresResult large = compute_large_scores();
  show_large_scores(large);
  const KeepDimsResult keep_dims = compute_keep_dims();
  show_keep_dims(keep_dims);
  if (opt.speed) show_speed(compute_speed(rng));

  const int status = self_checks(products, softmax, large, keep_dims);
  figures.report();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 01: tensors, broadcasting, the matrix product and a stable softmax", "ch01_tensors"};
  Options opt;
  add_flags(app, opt);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

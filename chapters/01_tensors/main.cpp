// Chapter 01 — tensors with xtensor: shapes, broadcasting, the matrix product and a numerically
// stable softmax, plus the lazy keep_dims trap of xtensor 0.24 and its fix.
//
//   build/bin/ch01_tensors [--rows N] [--cols M] [--seed S] [--svg DIR] [--no-color]
#include "cli.hpp"
#include "contracts/01_tensors.hpp"
#include "print.hpp"
#include "rng.hpp"
#include "svg.hpp"

#include <xtensor-blas/xlinalg.hpp>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int rows = 3;  // rows of the random score matrix
  int cols = 5;  // its columns
};

// What a run needs, estimated from its sizes before it starts: a few (rows, cols) matrices alive at
// once (the cost constants are in cli.hpp). The work per score: drawing it into fresh matrices, its
// exponential, printing it twice (matrix and heatmap) and, with --svg, drawing it.
Cost cost_of(const Options& opt) {
  const double cells = static_cast<double>(opt.rows) * opt.cols;
  const double figure = opt.common.svg_dir.empty() ? 0.0 : svg_cell;
  return {8.0 * 4.0 * cells,
          cells * (normal_draw + 3.0 * fresh_double + math_call + 2.0 * printed_number + figure)};
}

// Shapes and broadcasting: a (2, 3) matrix plus a (3,) row and a (2, 1) column.
void show_broadcasting() {
  print_section("1. Shapes and broadcasting");
  const Matrix a = {{1, 2, 3}, {4, 5, 6}};
  const Vector row = {10, 20, 30};
  const Matrix col = {{100}, {200}};
  print_matrix("a", a);
  print_vector("row", row);
  print_matrix("col", col);
  fmt::print("Broadcasting lines shapes up from the right; an axis that is missing or 1 is repeated:\n");
  print_matrix("a + row      (2, 3) + (3,)", Matrix(a + row));
  print_matrix("a + col      (2, 3) + (2, 1)", Matrix(a + col));
}

// The matrix product by hand (matmul) and by OpenBLAS (xt::linalg::dot).
double show_matmul(Rng& rng) {
  print_section("2. The matrix product");
  const Matrix a = {{1, 2, 3}, {4, 5, 6}};
  const Matrix b = {{7, 8}, {9, 10}, {11, 12}};
  print_matrix("b", b, {}, {}, 0);
  print_matrix("matmul(a, b)      (2, 3) x (3, 2)", matmul(a, b), {}, {}, 0);
  // Random 64 x 48 times 48 x 32: our three loops against OpenBLAS. The last bits may differ
  // (OpenBLAS adds in another order), so the check allows 1e-12.
  const Matrix x = rng.uniform_matrix(64, 48, -1.0, 1.0);
  const Matrix y = rng.uniform_matrix(48, 32, -1.0, 1.0);
  const Matrix ours = matmul(x, y);
  const Matrix blas = xt::linalg::dot(x, y);
  fmt::print("random (64, 48) x (48, 32): matmul and xt::linalg::dot (OpenBLAS) computed\n");
  return max_abs_diff(ours, blas);
}

// Softmax of random scores, row by row.
Matrix show_softmax(Rng& rng, const Options& opt) {
  print_section("3. Softmax, row by row");
  const Matrix scores = 2.0 * rng.normal_matrix(opt.rows, opt.cols);
  print_matrix("scores", scores);
  const Matrix p = softmax_rows(scores);
  print_heatmap("softmax_rows(scores)", p, {}, {});
  return p;
}

// Why subtract the maximum: exp(10000) overflows to inf, and inf / inf is NaN.
Matrix show_large_scores() {
  print_section("4. Large scores: why softmax subtracts the row maximum");
  const Matrix s = {{10000, 9999, 9998}};
  print_matrix("s", s, {}, {}, 0);
  Matrix naive = xt::exp(s);
  naive /= xt::sum(naive)();
  const auto show = [](double x) { return std::isnan(x) ? std::string("nan") : fmt::format("{:.4f}", x); };
  fmt::print("naive exp(s) / sum(exp(s)):   [{}, {}, {}]   (exp(10000) = inf, and inf / inf = nan)\n",
             show(naive(0, 0)), show(naive(0, 1)), show(naive(0, 2)));
  const Matrix stable = softmax_rows(s);
  fmt::print("softmax_rows(s) = softmax(s - 10000) = softmax([0, -1, -2]):   [{:.4f}, {:.4f}, {:.4f}]\n",
             stable(0, 0), stable(0, 1), stable(0, 2));
  return stable;
}

// The lazy keep_dims trap (trap 1 in CONTRIBUTING.md) and its fix. Returns the error of the trap.
double show_keep_dims_trap(SelfChecks& checks) {
  print_section("5. The keep_dims trap in xtensor 0.24");
  // The 3 x 3 scores sit at the top of a 12 x 3 buffer of zeros: the trap reads past the end of its
  // input, and here those reads land in memory we own (in your code they read garbage).
  Matrix buffer = xt::zeros<double>({12, 3});
  const Matrix s0 = {{1, 2, 3}, {4, 5, 6}, {7, 8, 20}};
  xt::view(buffer, xt::range(0, 3), xt::all()) = s0;
  auto s = xt::view(buffer, xt::range(0, 3), xt::all());
  print_matrix("s", s0, {}, {}, 0);

  // The obvious one-liner: a lazy reducer with keep_dims inside the expression. Wrong in 0.24.3.
  const Matrix trap = xt::exp(s - xt::amax(s, {1}, xt::keep_dims));
  // The fix: evaluate the reducer into a container first, then use it.
  const Matrix row_max = xt::amax(s, {1}, xt::keep_dims);
  const Matrix fixed = xt::exp(s - row_max);
  print_matrix("trap:  xt::exp(s - xt::amax(s, {1}, xt::keep_dims))", trap, {}, {}, 4);
  print_matrix("fix:   m = xt::amax(s, {1}, xt::keep_dims);  xt::exp(s - m)", fixed, {}, {}, 4);

  // exp(s - max) by hand, row by row
  Matrix expected(s0.shape());
  for (std::size_t i = 0; i < 3; ++i) {
    const double mx = std::max({s0(i, 0), s0(i, 1), s0(i, 2)});
    for (std::size_t j = 0; j < 3; ++j) expected(i, j) = std::exp(s0(i, j) - mx);
  }
  checks.close("fix matches exp(s - row max) by hand", max_abs_diff(fixed, expected), 1e-15);
  return max_abs_diff(trap, expected);
}

int run(const Options& opt) {
  require_within_limits(cost_of(opt), fmt::format("a {} x {} score matrix", opt.rows, opt.cols));
  print_title("Chapter 01 · Tensors with xtensor");
  print_config("scores", fmt::format("{} x {} (--rows, --cols)", opt.rows, opt.cols));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  SelfChecks checks;
  show_broadcasting();
  const double blas_error = show_matmul(rng);
  const Matrix p = show_softmax(rng, opt);
  const Matrix stable = show_large_scores();
  const double trap_error = show_keep_dims_trap(checks);

  print_section("Self-checks");
  checks.below("matmul agrees with xt::linalg::dot (OpenBLAS)", blas_error, 1e-12);
  const Vector sums = xt::sum(p, {1});
  checks.close("rows sum to 1", max_abs_diff(sums, Vector(xt::ones<double>({p.shape(0)}))), 1e-12);
  checks.expect("large scores give no NaN", !xt::any(xt::isnan(stable)));
  checks.expect("the trap is wrong in this xtensor", trap_error > 1e-3,
                fmt::format("max error {:.1e}", trap_error));

  if (!opt.common.svg_dir.empty()) {
    HeatmapSpec spec;
    spec.title = "softmax_rows(scores): each row sums to 1";
    spec.row_axis = "row";
    spec.col_axis = "column";
    write_heatmap_svg(opt.common.svg_dir, "01-softmax.svg", p, spec);
    fmt::print("wrote {}/01-softmax.svg\n", opt.common.svg_dir);
  }
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 01: tensors, broadcasting, the matrix product and a stable softmax", "ch01_tensors"};
  Options opt;
  add_size_option(app, "--rows", opt.rows, "Rows of the random score matrix",
                  largest_within_limits(&Options::rows, cost_of));
  add_size_option(app, "--cols", opt.cols, "Columns of the random score matrix",
                  largest_within_limits(&Options::cols, cost_of));
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

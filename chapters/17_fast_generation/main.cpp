// Chapter 17 — Fast generation: a matrix and its row sums. (A placeholder made by tools/new_chapter.sh.)
//
//   build/bin/ch17_fast_generation [--rows N] [--cols M] [--seed S] [--svg DIR] [--no-color]
//
// Every chapter program has this shape: Options (the flags); compute() fills one named struct with
// everything the program shows; show() prints it, draw() writes its figures (nothing without --svg),
// self_checks() checks it; run() calls them in that order.
#include "cli.hpp"
#include "figures.hpp"
#include "given/17_fast_generation.hpp"
#include "print.hpp"
#include "rng.hpp"

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int rows = 4;  // n, rows of the example
  int cols = 6;  // m, its columns
};

// Everything the program shows, computed once.
struct Example {
  Matrix x;      // (n, m), uniform in [0, 1)
  Vector sums;   // (n) = fast_generation_row_sums(x)
  Vector means;  // (n) = fast_generation_row_means(x), given code on fast_generation_row_sums
};

// 1. Compute: draw the input, apply the chapter's functions.
Example compute(const Options& opt) {
  Rng rng(opt.common.seed);
  Example e;
  e.x = rng.uniform_matrix(opt.rows, opt.cols, 0.0, 1.0);
  e.sums = fast_generation_row_sums(e.x);
  e.means = fast_generation_row_means(e.x);
  return e;
}

// 2. Print every result with its shape.
void show(const Example& e) {
  print_section("1. A matrix and the sum of each row");
  print_matrix("x, uniform in [0, 1)", e.x);
  print_vector("fast_generation_row_sums(x)", e.sums, numbered("r", e.sums.size()));
  print_vector("fast_generation_row_means(x) = sums / m", e.means, numbered("r", e.means.size()));
}

// 3. Draw the figures.
void draw(const Example& e, Figures& figures) {
  figures.heatmap("17-example.svg", e.x,
                  heatmap_spec("x, uniform in [0, 1)", numbered("r", e.x.shape(0)),
                               numbered("c", e.x.shape(1)), "row i", "column j"));
}

// 4. The closing self-checks, from the results alone.
SelfChecks self_checks(const Example& e) {
  print_section("Self-checks");
  SelfChecks checks;
  checks.close("the row sums add up to the sum of all entries", std::abs(xt::sum(e.sums)() - xt::sum(e.x)()),
               1e-12);
  checks.expect("sums shape (n,)", e.sums.size() == e.x.shape(0), shape_of(e.sums));
  return checks;
}

int run(const Options& opt) {
  require_memory(8.0 * opt.rows * (opt.cols + 2.0), fmt::format("--rows {} --cols {}", opt.rows, opt.cols));
  print_title("Chapter 17 · Fast generation");
  print_config("sizes", fmt::format("n = {} (--rows), m = {} (--cols)", opt.rows, opt.cols));
  print_config("seed", std::to_string(opt.common.seed));

  const Example e = compute(opt);
  show(e);
  Figures figures(opt.common);
  draw(e, figures);
  const SelfChecks checks = self_checks(e);
  figures.report();
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 17: Fast generation", "ch17_fast_generation"};
  Options opt;
  add_size_option(app, "--rows", opt.rows, "Rows n of the example", 100000);
  add_size_option(app, "--cols", opt.cols, "Columns m of the example", 100000);
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

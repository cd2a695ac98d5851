#!/usr/bin/env bash
# new_chapter.sh NN slug [--depends "01 02 ..."] [--no-build]
#
# Creates every file a new chapter needs, on the shape every chapter has, so that it builds and its
# tests run at once; then you replace the placeholder exercise (the row sums of a matrix) with the
# chapter's own. Files (name = NN_slug):
#
#   common/contracts/NN_slug.hpp     the function the student writes: formula, shapes, throws
#   common/given/NN_slug.hpp         code the course gives (not an exercise), declared ...
#   given/NN_slug/row_means.cpp      ... and defined here, compiled into the reference and the stub
#   solutions/NN_slug/slug.cpp       the reference
#   exercises/NN_slug/slug.cpp       the stub: signature, TODO steps, not_implemented
#   exercises/NN_slug/HINTS.md       hints, one at a time
#   tests/test_NN_slug.cpp           tests: every case fails against the stub
#   tests/programs/chNN.cmake        the program's bad-input cases
#   chapters/NN_slug/main.cpp        the program: Options, compute() into a named struct, show(),
#                                    draw() (Figures), self_checks(), run()
#   docs/NN-slug.md                  the page, with the program's real output and its figure
#   docs/figures/NN-example.svg      the first figure (written by the program)
# and adds course_chapter(NN slug ...) to CMakeLists.txt, a row to the README's chapter table, and the
# stub's hash to exercises/STUBS.sha256 (tools/update_stub_hashes.sh, which checks that the stub fails
# every test). Unless --no-build: configures build/ (cmake --preset default), builds the chapter,
# fills in the docs page's output block and figure, and runs ctest -R chNN.
#
# --depends lists the earlier chapters whose functions the new one calls (course_chapter's DEPENDS).
# Refuses to overwrite anything. CONTRIBUTING.md ("Adding a chapter") says what to do next.
set -euo pipefail
usage() {
  echo "usage: tools/new_chapter.sh NN slug [--depends \"01 02 ...\"] [--no-build]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
nn=$1
slug=$2
shift 2
depends=""
build=1
while [ $# -gt 0 ]; do
  case $1 in
    --depends)
      [ $# -ge 2 ] || usage
      depends=$2
      shift 2
      ;;
    --no-build)
      build=0
      shift
      ;;
    *) usage ;;
  esac
done
[[ $nn =~ ^[0-9][0-9]$ ]] || { echo "new_chapter.sh: NN must be two digits, e.g. 13" >&2; exit 2; }
[[ $slug =~ ^[a-z][a-z0-9_]*$ ]] || { echo "new_chapter.sh: slug must be snake_case, e.g. backpropagation" >&2; exit 2; }
for dep in $depends; do
  [[ $dep =~ ^[0-9][0-9]$ ]] && [ "$dep" -lt "$nn" ] ||
    { echo "new_chapter.sh: --depends takes earlier chapter numbers, e.g. \"01 02\"" >&2; exit 2; }
done

cd "$(dirname "$0")/.."
name=${nn}_${slug}
fn=${slug}_row_sums              # the placeholder exercise
given_fn=${slug}_row_means       # the placeholder given code, built on it
title="$(tr '_' ' ' <<<"${slug:0:1}" | tr '[:lower:]' '[:upper:]')$(tr '_' ' ' <<<"${slug:1}")"
program=ch${name}

if grep -q "^course_chapter(${nn} " CMakeLists.txt; then
  echo "new_chapter.sh: chapter $nn is already registered in CMakeLists.txt" >&2
  exit 1
fi
files=(common/contracts/$name.hpp common/given/$name.hpp given/$name/row_means.cpp solutions/$name/$slug.cpp
       exercises/$name/$slug.cpp exercises/$name/HINTS.md tests/test_$name.cpp tests/programs/ch$nn.cmake
       chapters/$name/main.cpp "docs/$nn-$slug.md")
for f in "${files[@]}"; do
  if [ -e "$f" ]; then
    echo "new_chapter.sh: $f exists already; nothing written" >&2
    exit 1
  fi
done

# Writes stdin to FILE with @NN@, @SLUG@, @NAME@, @FN@, @GIVEN_FN@, @TITLE@ filled in.
emit() {
  mkdir -p "$(dirname "$1")"
  sed -e "s|@NN@|$nn|g" -e "s|@SLUG@|$slug|g" -e "s|@NAME@|$name|g" -e "s|@FN@|$fn|g" \
      -e "s|@GIVEN_FN@|$given_fn|g" -e "s|@TITLE@|$title|g" >"$1"
  echo "wrote $1"
}

emit common/contracts/$name.hpp <<'EOF'
// Chapter @NN@ — @TITLE@: the function you write in exercises/@NAME@/@SLUG@.cpp. The reference is
// solutions/@NAME@/@SLUG@.cpp; tests/test_@NAME@.cpp checks both (./course check @NN@). Code the
// course gives for this chapter (not an exercise) is in common/given/@NAME@.hpp.
#pragma once
#include "tensor.hpp"

namespace course {

// @FN@ — the sum of each row. (A placeholder made by tools/new_chapter.sh: replace it with the
// chapter's first exercise, keeping the form: the formula, the shapes in and out, the source, what
// it throws.)
//   x (n, m)  ->  s (n),   s[i] = sum over j of x[i][j]
Vector @FN@(const Matrix& x);

}  // namespace course
EOF

emit common/given/$name.hpp <<'EOF'
// Chapter @NN@ — given code (not an exercise), defined in given/@NAME@/ and compiled with both the
// reference and your exercise, so it runs on whichever @FN@ it is linked with.
#pragma once
#include "contracts/@NAME@.hpp"

namespace course {

// @GIVEN_FN@ — the mean of each row, on @FN@ (a placeholder for the chapter's given code):
//   x (n, m)  ->  mean (n),   mean[i] = @FN@(x)[i] / m
// Throws std::invalid_argument when m is 0.
Vector @GIVEN_FN@(const Matrix& x);

}  // namespace course
EOF

emit given/$name/row_means.cpp <<'EOF'
// Chapter @NN@ — given code (declared in common/given/@NAME@.hpp).
#include "given/@NAME@.hpp"

#include <stdexcept>

namespace course {

// mean[i] = @FN@(x)[i] / m
Vector @GIVEN_FN@(const Matrix& x) {
  if (x.shape(1) == 0) throw std::invalid_argument("@GIVEN_FN@: x has no columns");
  Vector mean = @FN@(x);
  for (double& v : mean) v /= static_cast<double>(x.shape(1));
  return mean;
}

}  // namespace course
EOF

emit solutions/$name/$slug.cpp <<'EOF'
// Chapter @NN@ — reference solution (the contract is in common/contracts/@NAME@.hpp).
#include "contracts/@NAME@.hpp"

namespace course {

// s (n) = sum of each row of x (n, m)
Vector @FN@(const Matrix& x) {
  Vector s = xt::zeros<double>({x.shape(0)});
  for (std::size_t i = 0; i < x.shape(0); ++i)
    for (std::size_t j = 0; j < x.shape(1); ++j) s(i) += x(i, j);
  return s;
}

}  // namespace course
EOF

emit exercises/$name/$slug.cpp <<'EOF'
// Exercise @NN@ — @TITLE@.
//
// Fill in the function below, then run   ./course check @NN@
// The contract is in common/contracts/@NAME@.hpp; stuck? ./course hint @NN@
#include "contracts/@NAME@.hpp"

namespace course {

// s (n) = sum of each row of x (n, m)
Vector @FN@(const Matrix& x) {
  // TODO: 1. s = an (n) vector of zeros:  Vector s = xt::zeros<double>({x.shape(0)});
  // TODO: 2. s(i) = sum over j of x(i, j)
  throw not_implemented("exercise @NN@: @FN@");
}

}  // namespace course
EOF

emit exercises/$name/HINTS.md <<'EOF'
# Hints for exercise @NN@ — @TITLE@

Read them one at a time; try again after each.

## @FN@

1. `x.shape(0)` is the number of rows n, `x.shape(1)` the number of columns m; the result has n
   entries.
2. Two loops: over the rows i, and inside over the columns j, adding `x(i, j)` to `s(i)`.
EOF

emit tests/test_$name.cpp <<'EOF'
// Chapter @NN@ — tests of @FN@, run against the reference and against your exercise
// (./course check @NN@). Every case calls the exercise's function, so every case fails against the
// stub; a test of given code that does not call it goes in a TEST_SUITE("given: @NN@ ...")
// (CONTRIBUTING.md, "Given code").
#include "given/@NAME@.hpp"
#include "rng.hpp"
#include "test_util.hpp"

using namespace course;

TEST_SUITE("@NN@ @TITLE@") {
  TEST_CASE("@FN@: a 2 x 3 matrix worked by hand") {
    // row 0: 1 + 2 + 3 = 6, row 1: 4 + 5 + 6 = 15
    CHECK_CLOSE(@FN@(Matrix({{1, 2, 3}, {4, 5, 6}})), Vector({6, 15}), 0.0);
  }

  TEST_CASE("@FN@: the row sums add up to the sum of all entries") {
    Rng rng(1);
    const Matrix x = rng.uniform_matrix(5, 7, -1.0, 1.0);
    const Vector s = @FN@(x);
    REQUIRE_SHAPE(s, {5});
    CHECK(std::abs(xt::sum(s)() - xt::sum(x)()) < 1e-12);
  }

  TEST_CASE("@GIVEN_FN@ (given) divides the row sums by the number of columns") {
    CHECK_CLOSE(@GIVEN_FN@(Matrix({{1, 2, 3}, {4, 5, 6}})), Vector({2, 5}), 1e-15);
  }
}  // TEST_SUITE
EOF

emit tests/programs/ch$nn.cmake <<'EOF'
# Chapter @NN@ program: bad input (and, if the chapter reads .npy files, its PyTorch cases:
# course_interop_test, fixtures by tools/make_fixtures_@NN@.py).
course_expect_error(ch@NAME@ rows_zero --rows 0)
course_expect_error(ch@NAME@ cols_not_a_number --cols four)
course_expect_error(ch@NAME@ needs_gigabytes --rows 100000 --cols 100000)
EOF

emit chapters/$name/main.cpp <<'EOF'
// Chapter @NN@ — @TITLE@: a matrix and its row sums. (A placeholder made by tools/new_chapter.sh.)
//
//   build/bin/ch@NAME@ [--rows N] [--cols M] [--seed S] [--svg DIR] [--no-color]
//
// Every chapter program has this shape: Options (the flags); compute() fills one named struct with
// everything the program shows; show() prints it, draw() writes its figures (nothing without --svg),
// self_checks() checks it; run() calls them in that order.
#include "cli.hpp"
#include "figures.hpp"
#include "given/@NAME@.hpp"
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
  Vector sums;   // (n) = @FN@(x)
  Vector means;  // (n) = @GIVEN_FN@(x), given code on @FN@
};

// 1. Compute: draw the input, apply the chapter's functions.
Example compute(const Options& opt) {
  Rng rng(opt.common.seed);
  Example e;
  e.x = rng.uniform_matrix(opt.rows, opt.cols, 0.0, 1.0);
  e.sums = @FN@(e.x);
  e.means = @GIVEN_FN@(e.x);
  return e;
}

// 2. Print every result with its shape.
void show(const Example& e) {
  print_section("1. A matrix and the sum of each row");
  print_matrix("x, uniform in [0, 1)", e.x);
  print_vector("@FN@(x)", e.sums, numbered("r", e.sums.size()));
  print_vector("@GIVEN_FN@(x) = sums / m", e.means, numbered("r", e.means.size()));
}

// 3. Draw the figures.
void draw(const Example& e, Figures& figures) {
  figures.heatmap("@NN@-example.svg", e.x,
                  heatmap_spec("x, uniform in [0, 1)", numbered("r", e.x.shape(0)), numbered("c", e.x.shape(1)),
                               "row i", "column j"));
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
  print_title("Chapter @NN@ · @TITLE@");
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
  CLI::App app{"Chapter @NN@: @TITLE@", "ch@NAME@"};
  Options opt;
  add_size_option(app, "--rows", opt.rows, "Rows n of the example", 100000);
  add_size_option(app, "--cols", opt.cols, "Columns m of the example", 100000);
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}
EOF

emit "docs/$nn-$slug.md" <<'EOF'
# Chapter @NN@ · @TITLE@

(A placeholder page made by tools/new_chapter.sh: replace every paragraph, keep the sections. Every
claim is measured by the program or cites its source.)

**You will learn**
- what the sum of each row of a matrix is.

## The idea

A matrix `x` of shape (n, m) has n rows; `s[i] = Σ_j x[i][j]` adds up row i.

## Run it

<!-- output: ch@NAME@ -->
```text
```
<!-- end output -->

![x as a heatmap](figures/@NN@-example.svg)

Flags: `--rows N`, `--cols M`, `--seed S`, `--svg DIR` (writes the figure of this page), `--no-color`.

## Exercise

The exercise's files:

- [`exercises/@NAME@/@SLUG@.cpp`](../exercises/@NAME@/@SLUG@.cpp) — yours to fill in; `./course check @NN@` runs its tests
- [`common/contracts/@NAME@.hpp`](../common/contracts/@NAME@.hpp) — the contract: what each function takes and returns
- [`common/given/@NAME@.hpp`](../common/given/@NAME@.hpp) — code the course gives (not an exercise)
- [`tests/test_@NAME@.cpp`](../tests/test_@NAME@.cpp) — the tests
- [`solutions/@NAME@/@SLUG@.cpp`](../solutions/@NAME@/@SLUG@.cpp) — the reference, to read after your own

1. **`@FN@(x)`** — the sum of each row.

## Pitfalls

- (What goes wrong, and how the tests or the program show it.)

## Questions

1. What is the shape of `@FN@(x)` for an (n, m) matrix?
   <details><summary>Answer</summary>(n,): one number per row.</details>
EOF

# CMakeLists.txt: the chapter after the last one registered.
line="course_chapter(${nn} ${slug}${depends:+ DEPENDS ${depends}})"
last=$(grep -n '^course_chapter(' CMakeLists.txt | tail -1 | cut -d: -f1)
sed -i "${last}a\\
${line}" CMakeLists.txt
echo "added to CMakeLists.txt: $line"

# README: a row in the chapter table, after the last chapter's row.
row="| ${nn} | [${title,}](docs/${nn}-${slug}.md) | (what the program shows) | \`${fn}\` |"
last=$(grep -n '^| [0-9][0-9] | \[' README.md | tail -1 | cut -d: -f1)
if [ -n "$last" ]; then
  sed -i "${last}a\\
${row}" README.md
  echo "added a row to the README's chapter table"
fi

clang-format -i common/contracts/$name.hpp common/given/$name.hpp given/$name/row_means.cpp \
  solutions/$name/$slug.cpp exercises/$name/$slug.cpp tests/test_$name.cpp chapters/$name/main.cpp

if [ "$build" -eq 0 ]; then
  echo "next: cmake --preset default && tools/update_stub_hashes.sh, then build $program and fill in the docs:"
  echo "  tools/docs_output.sh update docs/$nn-$slug.md build/bin"
  echo "  tools/docs_figures.sh update build/bin/$program docs/figures $nn"
  exit 0
fi
cmake --preset default >/dev/null
tools/update_stub_hashes.sh  # builds test_${nn}_exercise and checks that every case fails against the stub
cmake --build build --target "$program" "test_${nn}_reference" npy_allclose >/dev/null
tools/docs_output.sh update "docs/$nn-$slug.md" build/bin
tools/docs_figures.sh update "build/bin/$program" docs/figures "$nn"
ctest --preset default -R "^ch${nn}\." 2>&1 | grep -E "tests passed|tests failed|Failed"
echo "chapter $nn is in place: now replace the placeholders (CONTRIBUTING.md, \"Adding a chapter\")"

#!/usr/bin/env bash
# new_chapter.sh NN slug [--depends "01 02 ..."] [--title "Title"] [--part N] [--no-build]
#
# Creates every file a new chapter needs, on the shape every chapter has, so that it builds and its
# tests run at once; then you replace the placeholder exercise (the row sums of a matrix) with the
# chapter's own. One chapter folder, one exercise folder, one page, one manifest entry (name = NN_slug):
#
#   chapters/NN_slug/main.cpp        the program: Options, compute() into a named struct, show(),
#                                    draw() (Figures), self_checks(), run()
#   chapters/NN_slug/contract.hpp    the function the student writes: formula, shapes, throws
#   chapters/NN_slug/given.hpp       code the course gives (not an exercise), declared ...
#   chapters/NN_slug/given/row_means.cpp   ... and defined here, compiled into the reference and the stub
#   chapters/NN_slug/solution/slug.cpp     the reference
#   chapters/NN_slug/test.cpp        tests: every case fails against the stub
#   chapters/NN_slug/programs.cmake  the program's bad-input cases
#   exercises/NN_slug/slug.cpp       the stub: signature, TODO steps, not_implemented
#   exercises/NN_slug/HINTS.md       hints, one at a time
#   docs/NN-slug.md                  the page, with the program's real output and its figure
#   docs/figures/NN-example.svg      the first figure (written by the program)
# and adds the chapter to chapters.toml (nn, slug, title, part, depends, exercises: CMake, the runner
# and the site read it from there), a row to the README's chapter table, and the stub's hash to
# exercises/STUBS.sha256 (tools/update_stub_hashes.sh, which checks that the stub fails every test).
# Unless --no-build: configures build/ (cmake --preset default), builds the chapter, fills in the docs
# page's output block and figure (tools/docs_output.py update) and runs ctest -R chNN.
#
# --depends lists the earlier chapters whose functions the new one calls (chapters.toml's depends: the
# contract includes their contracts); --title is the page's title (default: the slug in words); --part
# the course's part (default: the last chapter's). Refuses to overwrite anything. CONTRIBUTING.md
# ("Adding a chapter") says what to do next.
set -euo pipefail
usage() {
  echo "usage: tools/new_chapter.sh NN slug [--depends \"01 02 ...\"] [--title \"Title\"] [--part N] [--no-build]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
nn=$1
slug=$2
shift 2
depends=""
title=""
part=""
build=1
while [ $# -gt 0 ]; do
  case $1 in
    --depends)
      [ $# -ge 2 ] || usage
      depends=$2
      shift 2
      ;;
    --title)
      [ $# -ge 2 ] || usage
      title=$2
      shift 2
      ;;
    --part)
      [ $# -ge 2 ] || usage
      part=$2
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
[[ -z $part || $part =~ ^[123]$ ]] || { echo "new_chapter.sh: --part is 1, 2 or 3" >&2; exit 2; }
[[ $title != *[\"\|\\\&]* ]] ||
  { echo "new_chapter.sh: --title without quotes, |, & or backslashes, please" >&2; exit 2; }

cd "$(dirname "$0")/.."
name=${nn}_${slug}
fn=${slug}_row_sums              # the placeholder exercise
given_fn=${slug}_row_means       # the placeholder given code, built on it
[ -n "$title" ] || title="$(tr '_' ' ' <<<"${slug:0:1}" | tr '[:lower:]' '[:upper:]')$(tr '_' ' ' <<<"${slug:1}")"
program=ch${name}

known=$(/usr/bin/python3 tools/chapters.py names) || exit 1  # a manifest that is not well formed: said why
if grep -q "^${nn}_" <<<"$known"; then
  echo "new_chapter.sh: chapters.toml has a chapter $nn already" >&2
  exit 1
fi
dep_names=()
for dep in $depends; do
  dep_name=$(grep "^${dep}_" <<<"$known" || true)
  [[ $dep =~ ^[0-9][0-9]$ ]] && [ "$dep" -lt "$nn" ] && [ -n "$dep_name" ] ||
    { echo "new_chapter.sh: --depends takes earlier chapters of chapters.toml, e.g. \"01 02\"" >&2; exit 2; }
  dep_names+=("$dep_name")
done
[ -n "$part" ] || part=$(/usr/bin/python3 tools/chapters.py field "$(tail -1 <<<"$known" | cut -c1-2)" part)
files=(chapters/$name exercises/$name "docs/$nn-$slug.md")
for f in "${files[@]}"; do
  if [ -e "$f" ]; then
    echo "new_chapter.sh: $f exists already; nothing written" >&2
    exit 1
  fi
done
# The contract includes the contracts of the chapters it depends on.
dep_includes=""
for dep_name in "${dep_names[@]}"; do
  dep_includes+="#include \"$dep_name/contract.hpp\"\n"
done
[ -n "$dep_includes" ] || dep_includes='#include "tensor.hpp"\n'

# Writes stdin to FILE with @NN@, @SLUG@, @NAME@, @FN@, @GIVEN_FN@, @TITLE@, @DEP_INCLUDES@ filled in.
emit() {
  mkdir -p "$(dirname "$1")"
  sed -e "s|@NN@|$nn|g" -e "s|@SLUG@|$slug|g" -e "s|@NAME@|$name|g" -e "s|@FN@|$fn|g" \
      -e "s|@GIVEN_FN@|$given_fn|g" -e "s|@TITLE@|$title|g" -e "s|^@DEP_INCLUDES@$|${dep_includes%\\n}|" >"$1"
  echo "wrote $1"
}

emit chapters/$name/contract.hpp <<'EOF'
// Chapter @NN@ — @TITLE@: the function you write in exercises/@NAME@/@SLUG@.cpp. The reference is
// chapters/@NAME@/solution/@SLUG@.cpp; chapters/@NAME@/test.cpp checks both (./course check @NN@). Code
// the course gives for this chapter (not an exercise) is in chapters/@NAME@/given.hpp.
#pragma once
@DEP_INCLUDES@

namespace course {

// @FN@ — the sum of each row. (A placeholder made by tools/new_chapter.sh: replace it with the
// chapter's first exercise, keeping the form: the formula, the shapes in and out, the source, what
// it throws.)
//   x (n, m)  ->  s (n),   s[i] = sum over j of x[i][j]
Vector @FN@(const Matrix& x);

}  // namespace course
EOF

emit chapters/$name/given.hpp <<'EOF'
// Chapter @NN@ — given code (not an exercise), defined in chapters/@NAME@/given/ and compiled with both
// the reference and your exercise, so it runs on whichever @FN@ it is linked with.
#pragma once
#include "@NAME@/contract.hpp"

namespace course {

// @GIVEN_FN@ — the mean of each row, on @FN@ (a placeholder for the chapter's given code):
//   x (n, m)  ->  mean (n),   mean[i] = @FN@(x)[i] / m
// Throws std::invalid_argument when m is 0.
Vector @GIVEN_FN@(const Matrix& x);

}  // namespace course
EOF

emit chapters/$name/given/row_means.cpp <<'EOF'
// Chapter @NN@ — given code (declared in chapters/@NAME@/given.hpp).
#include "@NAME@/given.hpp"

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

emit chapters/$name/solution/$slug.cpp <<'EOF'
// Chapter @NN@ — reference solution (the contract is in chapters/@NAME@/contract.hpp).
#include "@NAME@/contract.hpp"

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
// The contract is in chapters/@NAME@/contract.hpp; stuck? ./course hint @NN@
#include "@NAME@/contract.hpp"

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

emit chapters/$name/test.cpp <<'EOF'
// Chapter @NN@ — tests of @FN@, run against the reference and against your exercise
// (./course check @NN@). Every case calls the exercise's function, so every case fails against the
// stub; a test of given code that does not call it goes in a TEST_SUITE("given: @NN@ ...")
// (CONTRIBUTING.md, "Given code").
#include "@NAME@/given.hpp"
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

emit chapters/$name/programs.cmake <<'EOF'
# Chapter @NN@ program: bad input (course_expect_error, course_expect_limit: tests/CMakeLists.txt) and,
# if the chapter reads .npy files, its PyTorch cases (course_interop_test; fixtures in
# chapters/@NAME@/fixtures/ by chapters/@NAME@/make_fixtures.py).
course_expect_error(ch@NAME@ rows_zero --rows 0)
course_expect_error(ch@NAME@ cols_not_a_number --cols four)
course_expect_error(ch@NAME@ needs_gigabytes --rows 100000 --cols 100000)
course_expect_limit(ch@NAME@ limit_rows_range "--rows: 1000000 is out of range" --rows 1000000)
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
#include "@NAME@/given.hpp"
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
- [`chapters/@NAME@/contract.hpp`](../chapters/@NAME@/contract.hpp) — the contract: what each function takes and returns
- [`chapters/@NAME@/given.hpp`](../chapters/@NAME@/given.hpp) — code the course gives (not an exercise)
- [`chapters/@NAME@/test.cpp`](../chapters/@NAME@/test.cpp) — the tests
- [`chapters/@NAME@/solution/@SLUG@.cpp`](../chapters/@NAME@/solution/@SLUG@.cpp) — the reference, to read after your own

1. **`@FN@(x)`** — the sum of each row.

## Pitfalls

- (What goes wrong, and how the tests or the program show it.)

## Questions

1. What is the shape of `@FN@(x)` for an (n, m) matrix?
   <details><summary>Answer</summary>(n,): one number per row.</details>
EOF

# chapters.toml: the chapter's entry, in the chapters' order (CMake, the runner and the site read it).
NN=$nn SLUG=$slug TITLE=$title PART=$part DEPENDS=$depends FN=$fn /usr/bin/python3 - <<'EOF'
import os, re
path = "chapters.toml"
text = open(path, encoding="utf-8").read()
env = os.environ
quoted = lambda items: "[" + ", ".join(f'"{i}"' for i in items) + "]"
entry = (f'[[chapter]]\nnn = "{env["NN"]}"\nslug = "{env["SLUG"]}"\ntitle = "{env["TITLE"]}"\n'
         f'part = {env["PART"]}\ndepends = {quoted(env["DEPENDS"].split())}\nexercises = {quoted([env["FN"]])}\n')
# before the first chapter with a larger number, else at the end
later = [m.start() for m in re.finditer(r'^\[\[chapter\]\]\nnn = "([0-9][0-9])"', text, re.M)
         if m.group(1) > env["NN"]]
if later:
    text = text[:later[0]] + entry + "\n" + text[later[0]:]
else:
    text = text.rstrip("\n") + "\n\n" + entry
open(path, "w", encoding="utf-8").write(text)
EOF
echo "added chapter $nn to chapters.toml"
/usr/bin/python3 tools/chapters.py check

# README: a row in the chapter table, after the last chapter's row.
row="| ${nn} | [${title,}](docs/${nn}-${slug}.md) | (what the program shows) | \`${fn}\` |"
last=$(grep -n '^| [0-9][0-9] | \[' README.md | tail -1 | cut -d: -f1)
if [ -n "$last" ]; then
  sed -i "${last}a\\
${row}" README.md
  echo "added a row to the README's chapter table"
fi

clang-format -i chapters/$name/*.hpp chapters/$name/*.cpp chapters/$name/given/*.cpp chapters/$name/solution/*.cpp \
  exercises/$name/*.cpp

if [ "$build" -eq 0 ]; then
  echo "next: cmake --preset default && tools/update_stub_hashes.sh, then build $program and fill in the docs:"
  echo "  tools/docs_output.py update docs/$nn-$slug.md"
  exit 0
fi
cmake --preset default >/dev/null
tools/update_stub_hashes.sh  # builds test_${nn}_exercise and checks that every case fails against the stub
cmake --build build --target "$program" "test_${nn}_reference" npy_allclose >/dev/null
/usr/bin/python3 tools/docs_output.py update "docs/$nn-$slug.md"
ctest --preset default -R "^ch${nn}\." 2>&1 | grep -E "tests passed|tests failed|Failed"
echo "chapter $nn is in place: now replace the placeholders (CONTRIBUTING.md, \"Adding a chapter\")"

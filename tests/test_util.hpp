// Helpers for the course's tests: tensor comparisons that say what was expected and what came out.
//
// CHECK(a == b) on tensors says nothing useful: it asks for exact equality, and its message is
// either {?} or the whole tensors (trap 9 in CONTRIBUTING.md). So we compare with max_abs_diff
// against a tolerance (a NaN always fails) and, on failure, describe the difference ourselves: which
// result differs (the expression passed to CHECK_CLOSE), the first index where it differs with both
// values, the largest difference, and a short excerpt of each tensor around that index — never the
// whole tensor, which for a (128, 64) encoding would be thousands of numbers. One number against
// another (CHECK_NEAR) and a gradient against a numerical or PyTorch one (CHECK_GRADIENT) likewise
// print both values, never only their difference (CHECK(std::abs(a - b) < t) prints "0.001 < 1e-15").
// At the end, helpers the chapters' tests share: check_gradients and check_named_gradients (gradients
// against central differences, tensor by tensor), check_pytorch_gradients (against PyTorch's .grad
// files) and fixture_args (the flags of a PyTorch fixture case).
#pragma once
#include "gradcheck.hpp"
#include "npy.hpp"
#include "tensor.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

// CAPTURE(name) and INFO(name) of a `const char*` (a fixture's name in a loop over {"a", "b"}) print
// the text: doctest's default prints the address ("name := 0x5633..."), and its own switch for this,
// DOCTEST_CONFIG_TREAT_CHAR_STAR_AS_STRING, does not compile in Debian's doctest 2.4.9.
template <>
struct doctest::StringMaker<const char*> {
  static doctest::String convert(const char* in) { return in == nullptr ? "nullptr" : in; }
};
template <>
struct doctest::StringMaker<char*> {
  static doctest::String convert(const char* in) { return in == nullptr ? "nullptr" : in; }
};

namespace course::test {

// A tensor of any rank copied into plain vectors: its shape and its values in row-major order.
struct Flat {
  std::vector<std::size_t> shape;
  std::vector<double> values;
};

template <class T>
Flat flatten(const T& t) {
  Flat f;
  f.shape.assign(t.shape().begin(), t.shape().end());
  for (auto x : t) f.values.push_back(static_cast<double>(x));  // xtensor iterates row-major
  return f;
}

// A flat list of numbers (a parameter's entries, a fixture's values) is a tensor of shape (n,).
inline Flat flatten(const std::vector<double>& v) {
  return Flat{{v.size()}, v};
}
inline Flat flatten(const Flat& f) {
  return f;
}

// Largest |a - b| over all elements; +inf if the shapes differ or a NaN shows up (tensors or lists).
template <class A, class B>
double max_difference(const A& a, const B& b) {
  const Flat fa = flatten(a), fb = flatten(b);
  if (fa.shape != fb.shape) return INFINITY;
  double worst = 0.0;
  for (std::size_t k = 0; k < fa.values.size(); ++k) {
    const double d = std::abs(fa.values[k] - fb.values[k]);
    if (std::isnan(d)) return INFINITY;
    worst = std::max(worst, d);
  }
  return worst;
}

// Flat index -> index per axis, e.g. 17 in shape (4, 5) -> {3, 2}.
inline std::vector<std::size_t> unravel(std::size_t flat, const std::vector<std::size_t>& shape) {
  std::vector<std::size_t> index(shape.size());
  for (std::size_t a = shape.size(); a-- > 0;) {
    index[a] = flat % shape[a];
    flat /= shape[a];
  }
  return index;
}

// "[3, 2]"
inline std::string index_text(const std::vector<std::size_t>& index) {
  return "[" + fmt::format("{}", fmt::join(index, ", ")) + "]";
}

// "(4, 5)", "(7,)", "()"
inline std::string shape_text(const std::vector<std::size_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return "(" + fmt::format("{}", fmt::join(shape, ", ")) + ")";
}

// At most this many rows and columns of a tensor are printed.
constexpr std::size_t excerpt_rows = 6;
constexpr std::size_t excerpt_cols = 6;

// A window of `count` indices out of [0, size) that contains `focus`, starting a little before it.
inline std::pair<std::size_t, std::size_t> window(std::size_t focus, std::size_t size, std::size_t count,
                                                  std::size_t before) {
  if (size <= count) return {0, size};
  std::size_t first = focus > before ? focus - before : 0;
  if (first + count > size) first = size - count;
  return {first, first + count};
}

// An excerpt of `t` around the index `focus`: the 2-D slice of the last two axes that holds `focus`
// (rank 3 and 4 are shown slice by slice, the slice named as [h, :, :]), at most excerpt_rows x
// excerpt_cols of it. Values for which `mark` is true get a '*'. "..." stands for rows or columns
// left out.
inline std::string excerpt(const Flat& t, const std::vector<std::size_t>& focus,
                           const std::vector<bool>& mark = {}) {
  const std::size_t rank = t.shape.size();
  if (rank == 0) return fmt::format("    {}\n", t.values.empty() ? 0.0 : t.values[0]);
  if (t.values.empty()) return "    (no values)\n";
  // rank 1 is one row; higher ranks: the last two axes are (rows, columns), the others fixed
  const std::size_t rows = rank == 1 ? 1 : t.shape[rank - 2];
  const std::size_t cols = t.shape[rank - 1];
  const std::size_t focus_row = rank == 1 ? 0 : focus[rank - 2];
  const std::size_t focus_col = focus[rank - 1];
  std::size_t slice_start = 0;  // flat index of element (.., 0, 0) of the slice
  std::string s;
  if (rank > 2) {
    std::vector<std::size_t> corner(focus.begin(), focus.end());
    corner[rank - 2] = corner[rank - 1] = 0;
    std::size_t stride = 1;
    for (std::size_t a = rank; a-- > 0;) {
      slice_start += corner[a] * stride;
      stride *= t.shape[a];
    }
    std::vector<std::string> fixed;
    for (std::size_t a = 0; a + 2 < rank; ++a) fixed.push_back(std::to_string(focus[a]));
    s += fmt::format("    slice [{}, :, :]\n", fmt::join(fixed, ", "));
  }
  const auto [r0, r1] = window(focus_row, rows, excerpt_rows, 2);
  const auto [c0, c1] = window(focus_col, cols, excerpt_cols, 3);
  if (r0 > 0) s += fmt::format("    ... {} row{} above\n", r0, r0 == 1 ? "" : "s");
  for (std::size_t i = r0; i < r1; ++i) {
    s += fmt::format("    {:>4} [", rank == 1 ? std::string() : fmt::format("{}:", i));
    if (c0 > 0) s += " ...";
    for (std::size_t j = c0; j < c1; ++j) {
      const std::size_t k = slice_start + i * cols + j;
      const bool star = !mark.empty() && mark[k];
      s += fmt::format(" {:>10.5g}{}", t.values[k], star ? "*" : " ");
    }
    if (c1 < cols) s += " ...";
    s += " ]\n";
  }
  if (r1 < rows) s += fmt::format("    ... {} row{} below\n", rows - r1, rows - r1 == 1 ? "" : "s");
  if (c0 > 0 || c1 < cols) {
    s += fmt::format("    ({} {}-{} of {})\n", rank == 1 ? "indices" : "columns", c0, c1 - 1, cols);
  }
  return s;
}

// A tensor as text with its shape first; a large one as an excerpt of its first rows and columns.
template <class T>
std::string show(const T& t) {
  const Flat f = flatten(t);
  return "shape " + shape_text(f.shape) + "\n" + excerpt(f, std::vector<std::size_t>(f.shape.size(), 0));
}

// What CHECK_CLOSE prints when `actual` (the expression `actual_text`) is not within `tolerance` of
// `expected`: the first index that differs, the largest difference, how many values differ, and an
// excerpt of both tensors around the first difference.
template <class A, class E>
std::string describe_difference(const A& actual, const E& expected, double tolerance,
                                const char* actual_text = "the result",
                                const char* expected_text = "expected") {
  const Flat got = flatten(actual);
  const Flat want = flatten(expected);
  std::string s;
  if (got.shape != want.shape) {
    s += fmt::format("{} has shape {}, but {} has shape {}\n", actual_text, shape_text(got.shape),
                     expected_text, shape_text(want.shape));
    s += fmt::format("  expected, shape {}:\n{}", shape_text(want.shape),
                     excerpt(want, std::vector<std::size_t>(want.shape.size(), 0)));
    s += fmt::format("  got, shape {}:\n{}", shape_text(got.shape),
                     excerpt(got, std::vector<std::size_t>(got.shape.size(), 0)));
    s.pop_back();  // doctest ends the message with its own newline
    return s;
  }
  // 1. which values differ (NaN always differs), the first and the largest difference
  std::vector<bool> differs(got.values.size());
  std::size_t count = 0, first = 0, largest = 0;
  double largest_diff = -1;
  std::vector<std::string> slices;  // rank >= 3: the slices [h, :, :] holding a difference
  for (std::size_t k = 0; k < got.values.size(); ++k) {
    const double d = std::abs(got.values[k] - want.values[k]);
    differs[k] = !(d <= tolerance);
    if (!differs[k]) continue;
    if (count++ == 0) first = k;
    const double size = std::isnan(d) ? INFINITY : d;
    if (size > largest_diff) largest_diff = size, largest = k;
    if (got.shape.size() >= 3) {
      std::vector<std::size_t> index = unravel(k, got.shape);
      index.resize(index.size() - 2);
      const std::string name = index_text(index);
      if (slices.empty() || slices.back() != name) slices.push_back(name);
    }
  }
  const auto value_text = [](double x) { return fmt::format("{}", x); };  // shortest exact form
  const std::vector<std::size_t> at = unravel(first, got.shape);
  s += fmt::format("{} differs from {} (tolerance {:g}): {} of {} value{} differ{}\n", actual_text,
                   expected_text, tolerance, count, got.values.size(), got.values.size() == 1 ? "" : "s",
                   count == 1 ? "s" : "");
  s += fmt::format("  first difference at {}: expected {}, got {}\n", index_text(at),
                   value_text(want.values[first]), value_text(got.values[first]));
  if (largest != first) {
    s += fmt::format("  largest difference at {}: expected {}, got {}\n",
                     index_text(unravel(largest, got.shape)), value_text(want.values[largest]),
                     value_text(got.values[largest]));
  }
  if (slices.size() > 1) {
    const std::size_t shown = std::min<std::size_t>(slices.size(), 8);
    s += fmt::format("  slices that differ: {}{}\n",
                     fmt::join(std::vector<std::string>(slices.begin(), slices.begin() + shown), " "),
                     shown < slices.size() ? fmt::format(" and {} more", slices.size() - shown) : "");
  }
  // 2. both tensors around the first difference
  s += fmt::format("  expected, shape {}:\n{}", shape_text(want.shape), excerpt(want, at));
  s += fmt::format("  got (* = differs by more than {:g}):\n{}", tolerance, excerpt(got, at, differs));
  s.pop_back();  // doctest ends the message with its own newline
  return s;
}

// What CHECK_NEAR prints when one number is not within `tolerance` of another:
//   "the loss: got 0.5, expected 0.25 (difference 0.25, tolerance 1e-15)"
inline std::string describe_number(double got, double want, double tolerance, const char* actual_text) {
  return fmt::format("{}: got {}, expected {} (difference {:g}, tolerance {:g})", actual_text, got, want,
                     std::abs(got - want), tolerance);
}

// What CHECK_GRADIENT prints when an analytic gradient is not within `tolerance` (relative error, see
// compare_gradients) of the numerical or PyTorch gradient: the worst entry with both values.
//   "dq: worst entry [1, 0]: got 0.31, expected 0.62 (difference 0.31, relative error 0.5, tolerance
//    1e-08); 4 of 6 entries over the tolerance"
template <class A, class E>
std::string describe_gradient(const A& analytic, const E& expected, double tolerance,
                              const char* actual_text) {
  const Flat got = flatten(analytic);
  const Flat want = flatten(expected);
  if (got.shape != want.shape) {
    return fmt::format("{} has shape {}, but the gradient it is compared with has shape {}", actual_text,
                       shape_text(got.shape), shape_text(want.shape));
  }
  const GradcheckResult r = compare_gradients(got.values, want.values);
  std::size_t over = 0;
  for (std::size_t k = 0; k < got.values.size(); ++k) {
    const double scale = std::max({std::abs(got.values[k]), std::abs(want.values[k]), 1.0});
    if (!(std::abs(got.values[k] - want.values[k]) / scale <= tolerance)) ++over;
  }
  std::size_t worst = r.worst;
  for (std::size_t k = 0; k < got.values.size(); ++k) {  // a NaN is the worst entry
    if (std::isnan(got.values[k]) || std::isnan(want.values[k])) {
      worst = k;
      break;
    }
  }
  const double g = got.values.at(worst), w = want.values.at(worst);
  return fmt::format(
      "{}: worst entry {}: got {}, expected {} (difference {:g}, relative error {:g}, tolerance {:g}); {} of "
      "{} entr{} over the tolerance",
      actual_text, index_text(unravel(worst, got.shape)), g, w, std::abs(g - w),
      std::abs(g - w) / std::max({std::abs(g), std::abs(w), 1.0}), tolerance, over, got.values.size(),
      got.values.size() == 1 ? "y" : "ies");
}

}  // namespace course::test

// CHECK_NEAR(actual, expected, tolerance): |actual - expected| <= tolerance for two numbers (a NaN always
// fails). On failure prints both numbers, not just their difference:
//   "train_step(model, optimizer, b): got 2.31, expected 2.30 (difference 0.01, tolerance 1e-09)"
#define CHECK_NEAR(actual, expected, tolerance)                                           \
  do {                                                                                    \
    const double actual_ = (actual);                                                      \
    const double expected_ = (expected);                                                  \
    const double tolerance_ = (tolerance);                                                \
    if (!(std::abs(actual_ - expected_) <= tolerance_)) {                                 \
      FAIL_CHECK(course::test::describe_number(actual_, expected_, tolerance_, #actual)); \
    }                                                                                     \
  } while (0)

// CHECK_GRADIENT(analytic, expected, tolerance): an analytic gradient (a tensor or a flat list) against
// the numerical or PyTorch one, by compare_gradients' relative error (|a − n| / max(|a|, |n|, 1)). On
// failure prints the worst entry's index with both values, and how many entries are over.
#define CHECK_GRADIENT(analytic, expected, tolerance)                                           \
  do {                                                                                          \
    const auto& analytic_ = (analytic);                                                         \
    const auto& expected_ = (expected);                                                         \
    const double tolerance_ = (tolerance);                                                      \
    const course::test::Flat got_ = course::test::flatten(analytic_),                           \
                             want_ = course::test::flatten(expected_);                          \
    if (got_.shape != want_.shape ||                                                            \
        !course::compare_gradients(got_.values, want_.values).passed(tolerance_)) {             \
      FAIL_CHECK(course::test::describe_gradient(analytic_, expected_, tolerance_, #analytic)); \
    }                                                                                           \
  } while (0)

// CHECK_CLOSE(actual, expected, tolerance): shapes equal, every element within tolerance, no NaN
// (tensors, or flat lists of numbers: std::vector<double>).
// On failure names `actual` as written in the test (e.g. r.weights), the first index that differs
// with both values, and shows an excerpt of both tensors around it. The test case goes on.
#define CHECK_CLOSE(actual, expected, tolerance)                                                         \
  do {                                                                                                   \
    const auto& actual_ = (actual);                                                                      \
    const auto& expected_ = (expected);                                                                  \
    const double tolerance_ = (tolerance);                                                               \
    if (!(course::test::max_difference(actual_, expected_) <= tolerance_)) {                             \
      FAIL_CHECK(course::test::describe_difference(actual_, expected_, tolerance_, #actual, #expected)); \
    }                                                                                                    \
  } while (0)

// REQUIRE_SHAPE(tensor, {rows, cols}): the test case stops here if the shape differs.
#define REQUIRE_SHAPE(tensor, ...)                                                                    \
  do {                                                                                                \
    const auto& tensor_ = (tensor);                                                                   \
    const std::vector<std::size_t> want_ = __VA_ARGS__;                                               \
    const std::vector<std::size_t> got_(tensor_.shape().begin(), tensor_.shape().end());              \
    if (got_ != want_) {                                                                              \
      FAIL(fmt::format("{} has shape {}, expected shape {}", #tensor, course::test::shape_text(got_), \
                       course::test::shape_text(want_)));                                             \
    }                                                                                                 \
  } while (0)

namespace course::test {

// A gradient check of one tensor: the gradient a backward pass computed (with its shape) and the
// tensor it is the gradient of (its shape, and where its entries are, so that they can be changed).
struct GradientCheck {
  std::string name;                // "query", "layers.0.linear1.bias"
  Flat gradient;                   // the analytic gradient
  std::vector<std::size_t> shape;  // the tensor's
  double* entries = nullptr;       // the tensor's entries, row-major, read by the loss
  std::size_t size = 0;

  GradientCheck(std::string name, Flat gradient, std::vector<std::size_t> shape, double* entries,
                std::size_t size)
      : name(std::move(name)),
        gradient(std::move(gradient)),
        shape(std::move(shape)),
        entries(entries),
        size(size) {}
  // a gradient and the tensor (Matrix, Vector, ...) it is the gradient of
  template <class G, class T>
  GradientCheck(std::string name, const G& gradient, T& tensor)
      : GradientCheck(std::move(name), flatten(gradient), {tensor.shape().begin(), tensor.shape().end()},
                      tensor.data(), tensor.size()) {}
};

// check_gradients — each gradient against central differences of `loss` over its tensor (step 1e-6,
// chapter 13's numerical_gradient_in_place: each entry is changed in turn, `loss` re-runs the forward,
// the entry is put back). `tolerance` is CHECK_GRADIENT's relative error. A failure names the tensor:
//   test::check_gradients(loss, 1e-8, {{"query", g.query, query}, {"key", g.key, key}});
inline void check_gradients(const std::function<double()>& loss, double tolerance,
                            const std::vector<GradientCheck>& checks) {
  for (const GradientCheck& c : checks) {
    const Flat numerical{c.shape, numerical_gradient_in_place(c.entries, c.size, loss, 1e-6)};
    if (c.gradient.shape != numerical.shape ||
        !compare_gradients(c.gradient.values, numerical.values).passed(tolerance)) {
      FAIL_CHECK(describe_gradient(c.gradient, numerical, tolerance, ("the gradient of " + c.name).c_str()));
    }
  }
}

// check_named_gradients — the same over two lists of named tensors in the same order: a model's
// parameters and their gradients (chapter 14's named_tensors(model), named_tensors(gradients)).
//   Named: any struct with name, shape, data (double*) and size, such as chapter 14's NamedTensor
template <class Named>
void check_named_gradients(const std::vector<Named>& params, const std::vector<Named>& grads,
                           const std::function<double()>& loss, double tolerance) {
  REQUIRE(params.size() == grads.size());
  std::vector<GradientCheck> checks;
  for (std::size_t k = 0; k < params.size(); ++k) {
    const Named &p = params[k], &g = grads[k];
    checks.emplace_back(p.name, Flat{g.shape, {g.data, g.data + g.size}}, p.shape, p.data, p.size);
  }
  check_gradients(loss, tolerance, checks);
}

// A gradient and the name of the tensor it is the gradient of, for check_pytorch_gradients.
struct NamedGradient {
  std::string name;  // "query", "out_proj.weight"
  Flat gradient;
  template <class G>
  NamedGradient(std::string name, const G& gradient) : name(std::move(name)), gradient(flatten(gradient)) {}
};

// check_pytorch_gradients — each gradient against PyTorch's, DIR/<name>.grad.npy (what
// output.backward(grad_output) left in the tensor's .grad), as CHECK_CLOSE does: same shape, every
// entry within `tolerance`. A failure names the file:
//   test::check_pytorch_gradients(dir, 1e-9, {{"query", g.q}, {"key", g.k}, {"value", g.v}});
inline void check_pytorch_gradients(const std::string& dir, double tolerance,
                                    const std::vector<NamedGradient>& gradients) {
  for (const NamedGradient& g : gradients) {
    const std::string file = g.name + ".grad.npy";
    const NpyArray pytorch = read_npy(dir + "/" + file, file);
    const Flat expected{pytorch.shape, pytorch.values};
    if (!(max_difference(g.gradient, expected) <= tolerance)) {
      FAIL_CHECK(describe_difference(g.gradient, expected, tolerance, ("the gradient of " + g.name).c_str(),
                                     file.c_str()));
    }
  }
}

// The flags a PyTorch fixture case was made with, as its make_fixtures.py wrote them to DIR/args.txt
// ("--heads 2 --norm-first"): the program is run on the case with the same flags (--load DIR).
struct FixtureArgs {
  std::string file;                // DIR/args.txt, for the messages
  std::vector<std::string> words;  // {"--heads", "2", "--norm-first"}

  // Whether `flag` is one of the words ("--norm-first").
  bool has(const std::string& flag) const {
    return std::find(words.begin(), words.end(), flag) != words.end();
  }

  // The word after `flag` ("--heads 2" -> "2"); the test case stops if there is none.
  std::string value(const std::string& flag) const {
    const auto it = std::find(words.begin(), words.end(), flag);
    if (it == words.end() || it + 1 == words.end()) FAIL(fmt::format("{}: no value after {}", file, flag));
    return *(it + 1);
  }

  // The value after `flag` as a whole number ("--heads 2" -> 2) or as a number ("--lr 0.01" -> 0.01).
  std::size_t count(const std::string& flag) const {
    const std::string v = value(flag);
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) {
      FAIL(fmt::format("{}: {} {} is not a whole number", file, flag, v));
    }
    return std::stoul(v);
  }
  double number(const std::string& flag) const { return std::stod(value(flag)); }
};

// Reads DIR/args.txt (it may be empty: a case with the program's defaults); the test case stops if it
// is missing.
inline FixtureArgs fixture_args(const std::string& dir) {
  FixtureArgs args;
  args.file = dir + "/args.txt";
  std::ifstream in(args.file);
  if (!in) FAIL(fmt::format("{}: cannot be read", args.file));
  for (std::string w; in >> w;) args.words.push_back(w);
  return args;
}

}  // namespace course::test

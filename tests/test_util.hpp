// Helpers for the course's tests: tensor comparisons that say what was expected and what came out.
//
// doctest prints tensors compared with CHECK(a == b) as {?} (trap 9 in CONTRIBUTING.md), so we compare
// with max_abs_diff and attach both tensors to the failure message.
#pragma once
#include "tensor.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>

namespace course::test {

// A tensor as text, one row per line, with its shape first.
template <class T>
std::string show(const T& t) {
  std::string s = "shape " + shape_of(t) + "\n";
  if (t.dimension() == 2) {
    for (std::size_t i = 0; i < t.shape(0); ++i) {
      s += "    [";
      for (std::size_t j = 0; j < t.shape(1); ++j)
        s += fmt::format("{}{: .10g}", j ? ", " : "", double(t(i, j)));
      s += "]\n";
    }
  } else {
    s += "    [";
    std::size_t k = 0;
    for (auto x : t) s += fmt::format("{}{: .10g}", k++ ? ", " : "", double(x));
    s += "]\n";
  }
  return s;
}

template <class A, class E>
std::string describe_difference(const A& actual, const E& expected, double tolerance) {
  return fmt::format("expected (within {:g}):\n{}got:\n{}max |got - expected| = {:g}", tolerance,
                     show(expected), show(actual), max_abs_diff(actual, expected));
}

}  // namespace course::test

// CHECK_CLOSE(actual, expected, tolerance): every element within tolerance, shapes equal, no NaN.
// On failure prints both tensors and the largest difference.
#define CHECK_CLOSE(actual, expected, tolerance)                                      \
  do {                                                                                \
    const auto& actual_ = (actual);                                                   \
    const auto& expected_ = (expected);                                               \
    const double tolerance_ = (tolerance);                                            \
    CHECK_MESSAGE(course::max_abs_diff(actual_, expected_) <= tolerance_,             \
                  course::test::describe_difference(actual_, expected_, tolerance_)); \
  } while (0)

#define REQUIRE_SHAPE(tensor, ...)                                                                    \
  do {                                                                                                \
    const auto& tensor_ = (tensor);                                                                   \
    const std::vector<std::size_t> want_ = __VA_ARGS__;                                               \
    const std::vector<std::size_t> got_(tensor_.shape().begin(), tensor_.shape().end());              \
    REQUIRE_MESSAGE(got_ == want_, fmt::format("expected shape ({}), got {}", fmt::join(want_, ", "), \
                                               course::shape_of(tensor_)));                           \
  } while (0)

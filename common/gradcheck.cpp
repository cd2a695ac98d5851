// The gradient check by central differences (declared, with its templates, in gradcheck.hpp).
#include "gradcheck.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace course {

namespace detail {

void require_step(double eps) {
  if (!(eps > 0.0) || !std::isfinite(eps))
    throw std::invalid_argument(fmt::format("numerical_gradient: the step eps = {} must be positive", eps));
}

void require_same_shape(const std::vector<std::size_t>& a, const std::vector<std::size_t>& b) {
  if (a != b) {
    throw std::invalid_argument(
        fmt::format("compare_gradients: the analytic gradient has shape ({}) but the "
                    "numerical one has shape ({})",
                    fmt::join(a, ", "), fmt::join(b, ", ")));
  }
}

}  // namespace detail

std::vector<double> numerical_gradient_in_place(double* entries, std::size_t size,
                                                const std::function<double()>& loss, double eps) {
  detail::require_step(eps);
  std::vector<double> g(size);
  for (std::size_t i = 0; i < size; ++i) {
    const double saved = entries[i];
    entries[i] = saved + eps;
    const double up = loss();
    entries[i] = saved - eps;
    const double down = loss();
    entries[i] = saved;
    g[i] = (up - down) / (2.0 * eps);
  }
  return g;
}

// abs_i = |a_i − n_i|, rel_i = abs_i / max(|a_i|, |n_i|, floor); the largest of each
GradcheckResult compare_gradients(const std::vector<double>& analytic, const std::vector<double>& numerical,
                                  double floor) {
  if (analytic.size() != numerical.size()) {
    throw std::invalid_argument(
        fmt::format("compare_gradients: {} analytic entries against {} numerical ones", analytic.size(),
                    numerical.size()));
  }
  if (!(floor > 0.0))
    throw std::invalid_argument(fmt::format("compare_gradients: floor {} must be > 0", floor));
  GradcheckResult r;
  r.entries = analytic.size();
  for (std::size_t i = 0; i < analytic.size(); ++i) {
    const double a = analytic[i], n = numerical[i];
    const double abs_error = std::abs(a - n);
    const double rel_error = abs_error / std::max({std::abs(a), std::abs(n), floor});
    if (std::isnan(abs_error)) {  // a NaN is never a small error
      r.max_abs_error = r.max_rel_error = NAN;
      r.worst = i;
      return r;
    }
    r.max_abs_error = std::max(r.max_abs_error, abs_error);
    if (rel_error > r.max_rel_error) {
      r.max_rel_error = rel_error;
      r.worst = i;
    }
  }
  return r;
}

}  // namespace course

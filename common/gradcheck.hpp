// A gradient check by central differences, for any function of a tensor (chapter 13; chapters 14–17
// reuse it). Not an exercise: it is how the course knows that a backward pass is right.
//
// The partial derivative of a loss L with respect to one entry x_i is, for a small step ε,
//   dL/dx_i ≈ (L(x + ε e_i) − L(x − ε e_i)) / 2ε          (central difference)
// whose error is about C₁ ε² (the Taylor terms: f'''(x) ε² / 6) plus about C₂ u / ε (each L is rounded
// to about u = 2⁻⁵³ ≈ 1.1e-16 times its size, and the difference divides that by ε). The sum is smallest
// near ε = 1e-5 for functions of size 1; chapter 13's program measures the whole curve.
//
// Cost: two evaluations of L per entry, so keep the tensors of a check small.
//
//   // a function of a matrix
//   const Matrix num = numerical_gradient([&](const Matrix& q) { return loss_of(q); }, q, 1e-6);
//   // a parameter held in a struct: perturb it in place, re-run the forward inside the lambda
//   const Matrix num_w = numerical_gradient_in_place(weights.out_proj_weight, [&] { return loss(weights); }, 1e-6);
//   const GradcheckResult r = compare_gradients(analytic, num);   // r.max_abs_error, r.max_rel_error
#pragma once
#include "tensor.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace course {

// numerical_gradient_in_place — central differences with respect to every entry of `x`, which
// `loss` reads (through a reference or a pointer it captured). Each entry in turn is set to x_i + ε,
// then x_i − ε, `loss` is called, and the entry is put back exactly as it was:
//   g_i = (loss() at x_i + ε  −  loss() at x_i − ε) / 2ε
//   x any xtensor container (Matrix, Vector, Tensor3, ...)  ->  g of x's shape
// Throws std::invalid_argument when eps is not positive and finite.
template <class T>
T numerical_gradient_in_place(T& x, const std::function<double()>& loss, double eps);
// The same over `size` numbers at `entries` (a flat array: a named parameter's, say), as a flat list.
std::vector<double> numerical_gradient_in_place(double* entries, std::size_t size,
                                                const std::function<double()>& loss, double eps);

// numerical_gradient — the same for a function of one tensor: loss(x) with x perturbed entry by entry.
//   loss: const T& -> double, x (any shape)  ->  g of x's shape
template <class T, class Loss>
T numerical_gradient(const Loss& loss, T x, double eps) {
  return numerical_gradient_in_place<T>(
      x, [&] { return static_cast<double>(loss(x)); }, eps);
}

// How far an analytic gradient is from the numerical one, entry by entry:
//   abs error = |a_i − n_i|,   rel error = |a_i − n_i| / max(|a_i|, |n_i|, floor)
// The floor keeps entries whose gradient is (nearly) 0 from dividing rounding noise by (nearly) 0: with
// floor 1, entries smaller than 1 are judged by their absolute error, larger ones relative to their size.
struct GradcheckResult {
  std::size_t entries = 0;   // how many entries were compared
  double max_abs_error = 0;  // max_i |a_i − n_i|
  double max_rel_error = 0;  // max_i |a_i − n_i| / max(|a_i|, |n_i|, floor)
  std::size_t worst = 0;     // the flat index (row-major) of the largest relative error
  // True when max_rel_error <= tolerance (false if a NaN showed up).
  bool passed(double tolerance) const { return max_rel_error <= tolerance; }
};

// compare_gradients — the errors above over two gradients of the same shape, given as flat row-major
// values. Throws std::invalid_argument when the sizes differ or floor is not positive; a NaN in either
// makes both errors NaN (and passed() false).
GradcheckResult compare_gradients(const std::vector<double>& analytic, const std::vector<double>& numerical,
                                  double floor = 1.0);
// The same for two tensors; their shapes must agree (std::invalid_argument otherwise).
template <class A, class N>
GradcheckResult compare_gradients(const A& analytic, const N& numerical, double floor = 1.0);

// gradcheck — numerical_gradient of loss at x with step eps, compared with the analytic gradient.
template <class T, class Loss>
GradcheckResult gradcheck(const Loss& loss, const T& x, const T& analytic, double eps = 1e-6,
                          double floor = 1.0) {
  return compare_gradients(analytic, numerical_gradient(loss, x, eps), floor);
}

// --- implementation of the templates --------------------------------------------------------------

namespace detail {
void require_step(double eps);
void require_same_shape(const std::vector<std::size_t>& a, const std::vector<std::size_t>& b);
}  // namespace detail

template <class T>
T numerical_gradient_in_place(T& x, const std::function<double()>& loss, double eps) {
  // xtensor containers store their entries contiguously, row-major
  const std::vector<double> flat = numerical_gradient_in_place(x.data(), x.size(), loss, eps);
  T g = T::from_shape(x.shape());
  std::copy(flat.begin(), flat.end(), g.data());
  return g;
}

template <class A, class N>
GradcheckResult compare_gradients(const A& analytic, const N& numerical, double floor) {
  detail::require_same_shape({analytic.shape().begin(), analytic.shape().end()},
                             {numerical.shape().begin(), numerical.shape().end()});
  return compare_gradients(std::vector<double>(analytic.begin(), analytic.end()),
                           std::vector<double>(numerical.begin(), numerical.end()), floor);
}

}  // namespace course

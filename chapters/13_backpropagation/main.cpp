// Chapter 13 — backpropagation: the chain rule one layer at a time, each layer checked before the next.
// linear, the row softmax (p ⊙ (g − ⟨g, p⟩) beside its full Jacobian), scaled dot-product attention
// with a causal mask and a fully masked row (exact zeros, counted), multi-head attention through its
// projections; the gradient check's error against its step ε (the V curve); what the backward costs in
// multiply-adds and in bytes. With --load DIR, the gradients of PyTorch's files (as
// output.backward(grad_output) leaves them in .grad).
//
//   build/bin/ch13_backpropagation [--heads H] [--seed S] [--svg DIR] [--no-color]
//                                  [--load DIR [--causal] [--heads H]] [--save DIR]
//
// The program's shape: Options (the flags); one compute_* per section fills a named struct; show_*
// prints it, draw() writes the figures (nothing without --svg), self_checks() checks every claim;
// run() calls them in that order. With --load, run_loaded_attention() and run_loaded_multi_head() do the
// same: compute_loaded_* fills a named struct, report_results (results.hpp) checks, prints and saves
// its results, then the self-checks.
#include "04_masking/given.hpp"               // load_attention_layer
#include "05_multi_head_attention/given.hpp"  // multi_head_weight_files
#include "13_backpropagation/given.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "linalg.hpp"  // product, product_nt: the products the course's layers use
#include "npy.hpp"
#include "print.hpp"
#include "pytorch.hpp"  // load_attention_inputs
#include "results.hpp"
#include "rng.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <vector>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int heads = 2;             // H of section 4; of --load multi-head files only when given (else 1)
  bool heads_given = false;  // --heads was on the command line
  bool causal = false;       // --causal: the causal mask on --load scaled dot-product files
};

constexpr std::size_t kDemoE = 8;  // d_model of section 4's multi-head example
constexpr double kStep = 1e-6;     // the gradient check's ε in sections 1–4

// What the default run needs, estimated before it starts (the cost constants are in cli.hpp); its sizes
// are fixed, so this is a bound to keep if they change. The work is mostly the gradient checks: section
// 4's 416 entries, two forwards each, a forward being about 1.7e3 multiply-adds and some 20 small fresh
// matrices of up to 48 doubles; section 5's 12 steps x 24 entries x 2 forwards of a 6 x 6 attention
// (252 multiply-adds, 10 fresh 6 x 6 matrices); and about 600 printed numbers. Memory: well under 1 MiB.
Cost cost_of(const Options&) {
  const double forward_4 = 1.7e3 + 20.0 * 48.0 * fresh_double, forward_5 = 252.0 + 10.0 * 36.0 * fresh_double;
  return {1024.0 * 1024.0, 416.0 * 2.0 * forward_4 + 12.0 * 24.0 * 2.0 * forward_5 + 600.0 * printed_number};
}

// "max error 1.2e-10" style numbers.
std::string sci(double x) {
  return fmt::format("{:.1e}", x);
}

// ---- 1. linear --------------------------------------------------------------------------------------

struct LinearExample {
  Matrix x, w;
  Vector b;
  Matrix y, grad_y;
  LinearGradients g;
  GradcheckResult check_x, check_w, check_b;
};

LinearExample compute_linear() {
  LinearExample e;
  e.x = {{1, 2, 3}, {4, 5, 6}};
  e.w = {{1, 0, -1}, {2, 1, 0}};
  e.b = {0.5, -0.5};
  e.grad_y = {{1, 0}, {-1, 2}};
  e.y = linear(e.x, e.w, e.b);
  e.g = linear_backward(e.x, e.w, e.grad_y);
  // the loss ⟨y, dY⟩, re-run with each entry of x, W, b moved by ±ε
  Matrix x = e.x, w = e.w;
  Vector b = e.b;
  const std::function<double()> loss = [&] { return sum_of_products(linear(x, w, b), e.grad_y); };
  e.check_x = compare_gradients(e.g.x, numerical_gradient_in_place(x, loss, kStep));
  e.check_w = compare_gradients(e.g.weight, numerical_gradient_in_place(w, loss, kStep));
  e.check_b = compare_gradients(e.g.bias, numerical_gradient_in_place(b, loss, kStep));
  return e;
}

void show_linear(const LinearExample& e) {
  print_section("1. linear, y = x Wᵀ + b: three gradients from one upstream gradient dY");
  print_matrix("x", e.x, {}, {}, 0);
  print_matrix("W (out, in)", e.w, {}, {}, 0);
  print_matrix("y = x Wᵀ + b, with b = (0.5, -0.5)", e.y, {}, {}, 1);
  print_matrix("dY = dL/dy, given (the loss is L = Σ y ⊙ dY)", e.grad_y, {}, {}, 0);
  print_matrix("dx = dY W", e.g.x, {}, {}, 0);
  print_matrix("dW = dYᵀ x", e.g.weight, {}, {}, 0);
  print_vector("db = column sums of dY", e.g.bias, {}, 0);
  fmt::print("gradcheck, ε = {:.0e}: dx max error {}, dW {}, db {} (central differences of L)\n", kStep,
             sci(e.check_x.max_abs_error), sci(e.check_w.max_abs_error), sci(e.check_b.max_abs_error));
}

// ---- 2. softmax -------------------------------------------------------------------------------------

struct SoftmaxExample {
  Matrix s, p, g;   // one row: scores, softmax, upstream gradient dL/dp
  Matrix jacobian;  // (m, m) = diag(p) − p pᵀ
  Matrix full;      // J g, as a row
  Matrix jvp;       // softmax_backward(p, g)
  GradcheckResult check;
};

SoftmaxExample compute_softmax() {
  SoftmaxExample e;
  e.s = {{1.0, 2.0, 0.5, -1.0}};
  e.g = {{0.3, -0.2, 0.5, 0.1}};
  e.p = softmax_rows(e.s);
  const std::size_t m = e.s.shape(1);
  e.jacobian = Matrix::from_shape({m, m});
  for (std::size_t a = 0; a < m; ++a)
    for (std::size_t b = 0; b < m; ++b) e.jacobian(a, b) = (a == b ? e.p(0, a) : 0.0) - e.p(0, a) * e.p(0, b);
  const Matrix g_column = xt::transpose(e.g);
  e.full = xt::transpose(matmul(e.jacobian, g_column));
  e.jvp = softmax_backward(e.p, e.g);
  e.check =
      gradcheck([&](const Matrix& s) { return sum_of_products(softmax_rows(s), e.g); }, e.s, e.jvp, kStep);
  return e;
}

void show_softmax(const SoftmaxExample& e) {
  print_section("2. The row softmax: its Jacobian, and the product that never builds it");
  const Labels cols = numbered("j", e.s.shape(1));
  print_matrix("s, one row of scores", e.s, {"s"}, cols);
  print_matrix("p = softmax(s)", e.p, {"p"}, cols);
  print_matrix("g = dL/dp", e.g, {"g"}, cols);
  print_matrix("J = diag(p) − p pᵀ, J[j][k] = dp_j/ds_k (symmetric)", e.jacobian, cols, cols);
  const Matrix both = xt::concatenate(xt::xtuple(e.full, e.jvp), 0);
  print_matrix("dL/ds two ways", both, {"J g", "p ⊙ (g − ⟨g, p⟩)"}, cols);
  fmt::print("equal to {}; gradcheck of p ⊙ (g − ⟨g, p⟩): max error {}\n", sci(max_abs_diff(e.full, e.jvp)),
             sci(e.check.max_abs_error));
  fmt::print(
      "J g costs m² = {} multiply-adds per row and stores m² numbers; p ⊙ (g − ⟨g, p⟩) costs 2m = {} and\n"
      "stores none.\n",
      e.s.shape(1) * e.s.shape(1), 2 * e.s.shape(1));
}

// ---- 3. attention with masks --------------------------------------------------------------------------

// 小明喜欢去公园散步, left-padded by one token: under the causal mask, the padding query may see only
// itself, and it is padding, so its row is fully masked.
const Labels kTokens = {"<pad>", "小明", "喜欢", "去", "公园", "散步"};

struct MaskedExample {
  Matrix q, k, v, grad_output;  // (6, 4), (6, 4), (6, 3), (6, 3)
  BoolMatrix mask;              // causal, and key 0 is padding
  AttentionResult forward;      // P and O
  Matrix grad_s;                // dS = softmax_backward(P, dO vᵀ): what the backward sends to the scores
  AttentionGradients g;
  std::size_t masked = 0, masked_exact_zero = 0;      // masked entries, and how many of them have dS == 0.0
  bool pad_query_zero = false, pad_key_zero = false;  // dq row 0, dk and dv rows 0 exactly 0
  GradcheckResult check_q, check_k, check_v;
  double v_identity = 0, v_scale = 0;    // ⟨dv, v⟩ − ⟨dO, O⟩, and the size of those sums
  double qk_identity = 0, qk_scale = 0;  // ⟨dq, q⟩ − ⟨dk, k⟩, and the size of those sums
};

// ⟨a, b⟩ and Σ |a ⊙ b|, the size of the rounding in it.
double abs_products(const Matrix& a, const Matrix& b) {
  return sum_of_products(Matrix(xt::abs(a)), Matrix(xt::abs(b)));
}

bool row_is_zero(const Matrix& m, std::size_t i) {
  for (std::size_t j = 0; j < m.shape(1); ++j)
    if (m(i, j) != 0.0) return false;
  return true;
}

// ⟨dv, v⟩ = ⟨dO, O⟩ (O is linear in v) and ⟨dq, q⟩ = ⟨dk, k⟩ (q → c q, k → k / c changes nothing),
// for any inputs: two checks every attention backward must pass.
void attention_identities(const Matrix& q, const Matrix& k, const Matrix& v, const Matrix& grad_output,
                          const Matrix& output, const AttentionGradients& g, double& v_identity,
                          double& v_scale, double& qk_identity, double& qk_scale) {
  v_identity = std::abs(sum_of_products(g.v, v) - sum_of_products(grad_output, output));
  v_scale = abs_products(g.v, v) + abs_products(grad_output, output);
  qk_identity = std::abs(sum_of_products(g.q, q) - sum_of_products(g.k, k));
  qk_scale = abs_products(g.q, q) + abs_products(g.k, k);
}

MaskedExample compute_masked(Rng& rng) {
  MaskedExample e;
  const std::size_t n = kTokens.size();
  e.q = rng.normal_matrix(n, 4);
  e.k = rng.normal_matrix(n, 4);
  e.v = rng.normal_matrix(n, 3);
  e.grad_output = rng.normal_matrix(n, 3);
  BoolVector padding = xt::zeros<bool>({n});
  padding(0) = true;
  e.mask = combine_masks(causal_mask(n), padding_mask(padding, n));
  e.forward = masked_attention(e.q, e.k, e.v, e.mask);
  e.g = attention_backward(e.q, e.k, e.v, e.forward.weights, e.grad_output);
  // the intermediate the program shows: dS, from dP = dO vᵀ (as attention_backward computes it)
  e.grad_s = softmax_backward(e.forward.weights, product_nt(e.grad_output, e.v));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (e.mask(i, j)) {
        ++e.masked;
        if (e.grad_s(i, j) == 0.0) ++e.masked_exact_zero;
      }
  e.pad_query_zero = row_is_zero(e.g.q, 0);
  e.pad_key_zero = row_is_zero(e.g.k, 0) && row_is_zero(e.g.v, 0);
  const auto loss = [&](const Matrix& q, const Matrix& k, const Matrix& v) {
    return sum_of_products(masked_attention(q, k, v, e.mask).output, e.grad_output);
  };
  e.check_q = gradcheck([&](const Matrix& x) { return loss(x, e.k, e.v); }, e.q, e.g.q, kStep);
  e.check_k = gradcheck([&](const Matrix& x) { return loss(e.q, x, e.v); }, e.k, e.g.k, kStep);
  e.check_v = gradcheck([&](const Matrix& x) { return loss(e.q, e.k, x); }, e.v, e.g.v, kStep);
  attention_identities(e.q, e.k, e.v, e.grad_output, e.forward.output, e.g, e.v_identity, e.v_scale,
                       e.qk_identity, e.qk_scale);
  return e;
}

void show_masked(const MaskedExample& e) {
  print_section("3. Scaled dot-product attention, causal, with a padding token: where the gradient stops");
  fmt::print(
      "q (6, 4), k (6, 4), v (6, 3) and dO = dL/dO (6, 3) drawn N(0, 1); causal mask, key <pad> masked\n");
  print_heatmap("P = softmax(q kᵀ / √4), masked entries 0, row <pad> fully masked", e.forward.weights,
                kTokens, kTokens);
  print_matrix("dS = softmax_backward(P, dO vᵀ), the gradient of the scores", e.grad_s, kTokens, kTokens, 3);
  fmt::print("masked entries: {} of {}; dS is exactly 0.0 at {} of them (P = 0, so P ⊙ (…) = 0)\n", e.masked,
             e.grad_s.size(), e.masked_exact_zero);
  fmt::print(
      "the fully masked query <pad>: dq row exactly 0: {}; the padding key: dk and dv rows exactly 0: {}\n",
      e.pad_query_zero ? "yes" : "no", e.pad_key_zero ? "yes" : "no");
  fmt::print("(小明 may see only itself: P = 1 whatever its score, so its row of dS is 0 as well)\n");
  print_matrix("dq = dS k / √d_k", e.g.q, kTokens, {}, 3);
  fmt::print("gradcheck, ε = {:.0e}: dq max error {}, dk {}, dv {}\n", kStep, sci(e.check_q.max_abs_error),
             sci(e.check_k.max_abs_error), sci(e.check_v.max_abs_error));
  fmt::print("⟨dv, v⟩ = ⟨dO, O⟩ to {} and ⟨dq, q⟩ = ⟨dk, k⟩ to {} (the page says why)\n", sci(e.v_identity),
             sci(e.qk_identity));
}

// ---- 4. multi-head attention ----------------------------------------------------------------------------

struct ParameterCheck {
  std::string name;
  std::string shape;
  GradcheckResult result;
};

struct MultiHeadExample {
  std::size_t heads = 0;
  Matrix query, key, value, grad_output;  // (4, E), (6, E), (6, E), (4, E)
  MultiHeadWeights w;
  MultiHeadForward forward;
  MultiHeadGradients g;
  double forward_vs_chapter_05 = 0;    // max |output − chapter 05's multi_head_attention output|
  std::vector<ParameterCheck> checks;  // one per input and parameter
  double key_bias_gradient = 0;        // max |dL/db_k|: zero in theory
  GradcheckResult self_attention;      // x as query, key and value: dL/dx = dquery + dkey + dvalue
};

MultiHeadExample compute_multi_head(Rng& rng, std::size_t heads) {
  MultiHeadExample e;
  const std::size_t E = kDemoE, L = 4, S = 6;
  e.heads = heads;
  e.w = random_multi_head_weights(rng, E);
  e.query = rng.normal_matrix(L, E);
  e.key = rng.normal_matrix(S, E);
  e.value = rng.normal_matrix(S, E);
  e.grad_output = rng.normal_matrix(L, E);
  const BoolMatrix mask = no_mask(L, S);
  e.forward = multi_head_attention_forward(e.query, e.key, e.value, e.w, heads, mask);
  e.forward_vs_chapter_05 =
      max_abs_diff(e.forward.output, multi_head_attention(e.query, e.key, e.value, e.w, heads, mask).output);
  e.g = multi_head_attention_backward(e.forward.saved, e.w, e.grad_output);
  // Every tensor in turn is perturbed in place; the loss re-runs chapter 05's forward on all of them.
  Matrix query = e.query, key = e.key, value = e.value;
  MultiHeadWeights w = e.w;
  const std::function<double()> loss = [&] {
    return sum_of_products(multi_head_attention(query, key, value, w, heads, mask).output, e.grad_output);
  };
  const auto check = [&](const std::string& name, const auto& analytic, auto& tensor) {
    e.checks.push_back({name, shape_of(tensor),
                        compare_gradients(analytic, numerical_gradient_in_place(tensor, loss, kStep))});
  };
  check("query", e.g.query, query);
  check("key", e.g.key, key);
  check("value", e.g.value, value);
  check("in_proj_weight", e.g.in_proj_weight, w.in_proj_weight);
  check("in_proj_bias", e.g.in_proj_bias, w.in_proj_bias);
  check("out_proj.weight", e.g.out_proj_weight, w.out_proj_weight);
  check("out_proj.bias", e.g.out_proj_bias, w.out_proj_bias);
  for (std::size_t c = E; c < 2 * E; ++c)
    e.key_bias_gradient = std::max(e.key_bias_gradient, std::abs(e.g.in_proj_bias(c)));
  // self-attention: one x used three times
  const Matrix x = e.key;
  const Matrix self_grad_output = rng.normal_matrix(S, E);
  const MultiHeadGradients self =
      multi_head_attention_backward(x, x, x, e.w, heads, no_mask(S, S), self_grad_output);
  e.self_attention = gradcheck(
      [&](const Matrix& y) {
        return sum_of_products(multi_head_attention(y, y, y, e.w, heads, no_mask(S, S)).output,
                               self_grad_output);
      },
      x, Matrix(self.query + self.key + self.value), kStep);
  return e;
}

void show_multi_head(const MultiHeadExample& e) {
  print_section(
      fmt::format("4. Multi-head attention, {} heads of {}: back through out_proj, merge, each head, "
                  "split, in_proj",
                  e.heads, kDemoE / e.heads));
  fmt::print(
      "cross-attention: query (4, {0}), key and value (6, {0}), weights drawn like PyTorch's, dY (4, {0})\n",
      kDemoE);
  fmt::print("{:<16} {:>8} {:>8} {:>15} {:>15}\n", "gradient of", "shape", "entries", "max abs error",
             "max rel error");
  for (const ParameterCheck& c : e.checks)
    fmt::print("{:<16} {:>8} {:>8} {:>15} {:>15}\n", c.name, c.shape, c.result.entries,
               sci(c.result.max_abs_error), sci(c.result.max_rel_error));
  fmt::print("(central differences, ε = {:.0e}, each entry of each tensor moved in place)\n", kStep);
  fmt::print(
      "b_k's gradient, in_proj_bias[{}..{}]: max {} — zero in theory: adding one vector to every key\n"
      "adds a constant to each row of scores, and the softmax ignores constants.\n",
      kDemoE, 2 * kDemoE - 1, sci(e.key_bias_gradient));
  fmt::print("self-attention, x as query, key and value: dL/dx = dquery + dkey + dvalue, gradcheck {}\n",
             sci(e.self_attention.max_abs_error));
}

// ---- 5. the V curve ---------------------------------------------------------------------------------------

struct VCurve {
  std::vector<double> eps, error;       // ε = 1e-1 ... 1e-12 and max |numerical − analytic| at each
  std::vector<double> model;            // C₁ ε² + C₂u / ε at each ε
  double loss_size = 0;                 // |L|
  double c1 = 0, c2u = 0;               // fitted on the two branches
  double slope_truncation = 0;          // d log(error) / d log(ε) between 1e-2 and 1e-4 (2 in theory)
  double slope_rounding = 0;            // the same between 1e-9 and 1e-12 (−1 in theory)
  double eps_theory = 0;                // (C₂u / 2C₁)^(1/3)
  double eps_best = 0, error_best = 0;  // the measured minimum
};

constexpr double kUnitRoundoff = 1.1102230246251565e-16;  // u = 2⁻⁵³

VCurve compute_v_curve(const MaskedExample& m) {
  VCurve c;
  const auto loss = [&](const Matrix& q) {
    return sum_of_products(masked_attention(q, m.k, m.v, m.mask).output, m.grad_output);
  };
  c.loss_size = std::abs(loss(m.q));
  for (int e = 1; e <= 12; ++e) {
    const double eps = std::pow(10.0, -e);
    c.eps.push_back(eps);
    c.error.push_back(gradcheck(loss, m.q, m.g.q, eps).max_abs_error);
  }
  const auto error_at = [&](int e) { return c.error[e - 1]; };
  c.slope_truncation = (std::log10(error_at(2)) - std::log10(error_at(4))) / 2.0;
  c.slope_rounding = (std::log10(error_at(9)) - std::log10(error_at(12))) / (-9.0 - -12.0);
  c.c1 = error_at(3) / (1e-3 * 1e-3);  // error ≈ C₁ ε² there
  c.c2u = (error_at(10) * 1e-10 + error_at(11) * 1e-11 + error_at(12) * 1e-12) / 3.0;  // error ≈ C₂u / ε
  c.eps_theory = std::cbrt(c.c2u / (2.0 * c.c1));
  std::size_t best = 0;
  for (std::size_t i = 1; i < c.error.size(); ++i)
    if (c.error[i] < c.error[best]) best = i;
  c.eps_best = c.eps[best];
  c.error_best = c.error[best];
  for (double eps : c.eps) c.model.push_back(c.c1 * eps * eps + c.c2u / eps);
  return c;
}

void show_v_curve(const VCurve& c) {
  print_section("5. How small should ε be? The gradient check's error against its step");
  fmt::print(
      "dL/dq of section 3 (24 entries, |L| = {:.2f}) by central differences, against attention_backward:\n",
      c.loss_size);
  fmt::print("{:>8} {:>15} {:>15}\n", "ε", "max abs error", "C₁ε² + C₂u/ε");
  for (std::size_t i = 0; i < c.eps.size(); ++i)
    fmt::print("{:>8.0e} {:>15} {:>15}{}\n", c.eps[i], sci(c.error[i]), sci(c.model[i]),
               c.eps[i] == c.eps_best ? "   <- smallest" : "");
  fmt::print(
      "large ε: truncation, error ≈ C₁ε² (Taylor: f'''ε²/6); measured slope {:.2f} (theory 2), C₁ = {}\n",
      c.slope_truncation, sci(c.c1));
  fmt::print(
      "small ε: rounding, error ≈ C₂u/ε (u = 2⁻⁵³ = {:.2e}); measured slope {:.2f} (theory -1), C₂ = "
      "{:.1f}\n",
      kUnitRoundoff, c.slope_rounding, c.c2u / kUnitRoundoff);
  fmt::print(
      "best ε: theory (C₂u / 2C₁)^(1/3) = {}, measured {:.0e} (error {}); for C₁ = C₂ = 1, (u/2)^(1/3) = "
      "{}\n",
      sci(c.eps_theory), c.eps_best, sci(c.error_best), sci(std::cbrt(kUnitRoundoff / 2.0)));
}

// ---- 6. cost ----------------------------------------------------------------------------------------------

// Multiply-adds of the products, by formula (rows × inner × cols each). The backward turns each forward
// product C = A B into dA = dC Bᵀ and dB = Aᵀ dC, two products of the same size; softmax_backward adds
// 2 per score (the dot ⟨g, p⟩, then the product with p).
struct MultiplyAdds {
  double forward = 0, backward = 0;
  double ratio() const { return backward / forward; }
};

MultiplyAdds linear_cost(double n, double in, double out) {
  return {n * in * out, 2.0 * n * in * out};
}

MultiplyAdds attention_cost(double L, double S, double d_k, double d_v) {
  const double products = L * d_k * S + L * S * d_v;  // q kᵀ, P v
  return {products, 2.0 * products + 2.0 * L * S};
}

MultiplyAdds multi_head_cost(double L, double S, double E, double H) {
  MultiplyAdds total;
  const auto add = [&](const MultiplyAdds& part) {
    total.forward += part.forward;
    total.backward += part.backward;
  };
  add(linear_cost(L, E, E));  // Q = query W_qᵀ
  add(linear_cost(S, E, E));  // K
  add(linear_cost(S, E, E));  // V
  for (int h = 0; h < H; ++h) add(attention_cost(L, S, E / H, E / H));
  add(linear_cost(L, E, E));  // out_proj
  return total;
}

// What the backward keeps from the forward (MultiHeadActivations), in bytes, and P's part of it.
double activation_bytes(double L, double S, double E, double H) {
  return 8.0 * (2.0 * (L * E + 2.0 * S * E) + H * L * S + L * E);
}

// A matrix product that counts its multiply-adds as it runs: the course's product (common/linalg.hpp),
// the one attention_backward multiplies with.
class CountingProduct {
 public:
  Matrix operator()(const Matrix& a, const Matrix& b) {
    count_ +=
        static_cast<double>(a.shape(0)) * static_cast<double>(a.shape(1)) * static_cast<double>(b.shape(1));
    return course::product(a, b);  // (compute_cost names its counter `product`)
  }
  double take() {
    const double c = count_;
    count_ = 0;
    return c;
  }

 private:
  double count_ = 0;
};

struct CostRow {
  std::size_t L, S, E, H;
  MultiplyAdds madds;
  double bytes, weights_bytes;
};

struct CostExample {
  MultiplyAdds attention_counted, attention_formula;  // section 3's head, counted as it runs
  MultiplyAdds linear_counted, linear_formula;        // section 1's layer
  double counted_vs_backward =
      0;                      // max difference between the counted run's gradients and attention_backward's
  std::vector<CostRow> rows;  // multi-head attention by formula
  double demo_bytes_measured = 0;  // section 4's MultiHeadActivations::bytes()
};

CostExample compute_cost(const LinearExample& lin, const MaskedExample& m, const MultiHeadExample& mh) {
  CostExample c;
  CountingProduct product;
  // attention: forward q kᵀ and P v, then the backward's four products and softmax_backward
  const Matrix k_t = xt::transpose(m.k), v_t = xt::transpose(m.v);
  const Matrix& p = m.forward.weights;
  const double scale = 1.0 / std::sqrt(static_cast<double>(m.q.shape(1)));
  product(m.q, k_t);  // the scores (the mask and softmax are not multiply-adds: P is taken from section 3)
  product(p, m.v);
  c.attention_counted.forward = product.take();
  const Matrix p_t = xt::transpose(p);
  const Matrix grad_v = product(p_t, m.grad_output);
  const Matrix grad_s = softmax_backward(p, product(m.grad_output, v_t));
  const Matrix grad_s_t = xt::transpose(grad_s);
  const Matrix grad_q = product(grad_s, m.k) * scale;
  const Matrix grad_k = product(grad_s_t, m.q) * scale;
  c.attention_counted.backward = product.take() + 2.0 * static_cast<double>(p.size());
  c.counted_vs_backward =
      std::max({max_abs_diff(grad_q, m.g.q), max_abs_diff(grad_k, m.g.k), max_abs_diff(grad_v, m.g.v)});
  const double L = static_cast<double>(m.q.shape(0)), S = static_cast<double>(m.k.shape(0));
  c.attention_formula =
      attention_cost(L, S, static_cast<double>(m.q.shape(1)), static_cast<double>(m.v.shape(1)));
  // linear: y = x Wᵀ, then dx = dY W and dW = dYᵀ x
  const Matrix w_t = xt::transpose(lin.w), grad_y_t = xt::transpose(lin.grad_y);
  product(lin.x, w_t);
  c.linear_counted.forward = product.take();
  product(lin.grad_y, lin.w);
  product(grad_y_t, lin.x);
  c.linear_counted.backward = product.take();
  c.linear_formula = linear_cost(static_cast<double>(lin.x.shape(0)), static_cast<double>(lin.x.shape(1)),
                                 static_cast<double>(lin.w.shape(0)));
  // multi-head attention: section 4's size, then sizes of real models
  const std::size_t H = mh.heads;
  for (const auto& [Lr, Sr, Er, Hr] : std::vector<std::array<std::size_t, 4>>{
           {4, 6, kDemoE, H}, {1024, 1024, 512, 8}, {4096, 4096, 512, 8}, {4096, 4096, 512, 64}}) {
    const double l = static_cast<double>(Lr), s = static_cast<double>(Sr), e = static_cast<double>(Er),
                 h = static_cast<double>(Hr);
    c.rows.push_back(
        {Lr, Sr, Er, Hr, multi_head_cost(l, s, e, h), activation_bytes(l, s, e, h), 8.0 * h * l * s});
  }
  c.demo_bytes_measured = mh.forward.saved.bytes();
  return c;
}

void show_cost(const CostExample& c) {
  print_section("6. What the backward costs: multiply-adds and the bytes it keeps");
  fmt::print(
      "Each product C = A B of the forward becomes two of the same size, dA = dC Bᵀ and dB = Aᵀ dC;\n"
      "softmax_backward adds 2 per score. Counted by running the products through a counter:\n");
  fmt::print("{:<48} {:>9} {:>9} {:>7}\n", "", "forward", "backward", "ratio");
  fmt::print("{:<48} {:>9} {:>9} {:>7.2f}\n", "linear, section 1 (n 2, in 3, out 2)",
             c.linear_counted.forward, c.linear_counted.backward, c.linear_counted.ratio());
  fmt::print("{:<48} {:>9} {:>9} {:>7.2f}\n", "attention, section 3 (L = S = 6, d_k 4, d_v 3)",
             c.attention_counted.forward, c.attention_counted.backward, c.attention_counted.ratio());
  fmt::print("(the counted run's gradients equal attention_backward's to {})\n\n",
             sci(c.counted_vs_backward));
  fmt::print(
      "Multi-head attention by the same formulas, and the activations the backward keeps (float64):\n");
  fmt::print("{:>5} {:>5} {:>4} {:>3} {:>10} {:>10} {:>6} {:>12} {:>12}\n", "L", "S", "E", "H", "forward",
             "backward", "ratio", "activations", "of which P");
  for (const CostRow& r : c.rows)
    fmt::print("{:>5} {:>5} {:>4} {:>3} {:>10.3g} {:>10.3g} {:>6.3f} {:>12} {:>12}\n", r.L, r.S, r.E, r.H,
               r.madds.forward, r.madds.backward, r.madds.ratio(), format_bytes(r.bytes),
               format_bytes(r.weights_bytes));
  fmt::print("(section 4's activations, measured: {} = the formula's {})\n",
             format_bytes(c.demo_bytes_measured), format_bytes(c.rows[0].bytes));
  fmt::print(
      "The ratio tends to 2. P, H·L·S numbers, is most of what the backward keeps at long lengths:\n"
      "chapter 12's tiled attention never stores it, and FlashAttention's backward recomputes it\n"
      "tile by tile from Q, K and the softmax's two statistics per row (chapter 12's m and l).\n");
}

// ---- figures and self-checks ------------------------------------------------------------------------------

void draw(const MaskedExample& m, const VCurve& v, Figures& figures) {
  double largest = 0;
  for (double x : m.grad_s) largest = std::max(largest, std::abs(x));
  figures.heatmap("13-grad-scores.svg", m.grad_s,
                  heatmap_spec("dS = softmax_backward(P, dO vᵀ): masked entries are exactly 0", kTokens,
                               kTokens, "query", "key")
                      .with_range(-largest, largest)
                      .with_decimals(3));
  const PlotSpec spec{"Central differences against attention_backward: error against ε", "ε (log scale)",
                      "max |numerical − analytic|", /*log2_x=*/true, /*log10_y=*/true};
  figures.line_plot("13-v-curve.svg", v.eps, {{"measured", v.error}, {"C₁ε² + C₂u/ε", v.model}}, spec);
}

SelfChecks self_checks(const LinearExample& lin, const SoftmaxExample& sm, const MaskedExample& m,
                       const MultiHeadExample& mh, const VCurve& v, const CostExample& c) {
  print_section("Self-checks");
  SelfChecks checks;
  // 1, 2
  checks.close("linear: dx, dW, db agree with central differences",
               std::max({lin.check_x.max_rel_error, lin.check_w.max_rel_error, lin.check_b.max_rel_error}),
               1e-8);
  checks.close("softmax: p ⊙ (g − ⟨g, p⟩) = J g", max_abs_diff(sm.jvp, sm.full), 1e-15);
  checks.close("softmax: agrees with central differences", sm.check.max_rel_error, 1e-8);
  // 3
  checks.expect("attention: every masked entry of dS is exactly 0", m.masked_exact_zero == m.masked,
                fmt::format("{} of {}", m.masked_exact_zero, m.masked));
  checks.expect("attention: the fully masked row's dq and the padding key's dk, dv are exactly 0",
                m.pad_query_zero && m.pad_key_zero);
  checks.close("attention: dq, dk, dv agree with central differences",
               std::max({m.check_q.max_rel_error, m.check_k.max_rel_error, m.check_v.max_rel_error}), 1e-8);
  checks.close("attention: ⟨dv, v⟩ = ⟨dO, O⟩ and ⟨dq, q⟩ = ⟨dk, k⟩ (relative)",
               std::max(m.v_identity / m.v_scale, m.qk_identity / m.qk_scale), 1e-12);
  // 4
  double worst = 0;
  for (const ParameterCheck& p : mh.checks) worst = std::max(worst, p.result.max_rel_error);
  checks.close("multi-head: its forward is chapter 05's, bit for bit", mh.forward_vs_chapter_05, 0.0);
  checks.close("multi-head: all 7 gradients agree with central differences", worst, 1e-8);
  checks.close("multi-head: b_k's gradient is 0 up to rounding", mh.key_bias_gradient, 1e-13);
  checks.close("multi-head: self-attention's dx is the sum of the three", mh.self_attention.max_rel_error,
               1e-8);
  // 5
  checks.expect("V curve: the truncation branch falls like ε² (slope in [1.8, 2.2])",
                v.slope_truncation >= 1.8 && v.slope_truncation <= 2.2,
                fmt::format("{:.2f}", v.slope_truncation));
  checks.expect("V curve: the rounding branch rises like 1/ε (slope in [-1.5, -0.5])",
                v.slope_rounding >= -1.5 && v.slope_rounding <= -0.5,
                fmt::format("{:.2f}", v.slope_rounding));
  const double off = std::abs(std::log10(v.eps_best / v.eps_theory));
  checks.expect("V curve: the best ε is within 10x of (C₂u / 2C₁)^(1/3)", off <= 1.0,
                fmt::format("{:.0e} against {}", v.eps_best, sci(v.eps_theory)));
  checks.expect("V curve: the best ε is between 1e-7 and 1e-4", v.eps_best >= 1e-7 && v.eps_best <= 1e-4);
  // 6
  checks.expect("cost: counted multiply-adds equal the formulas",
                c.attention_counted.forward == c.attention_formula.forward &&
                    c.attention_counted.backward == c.attention_formula.backward &&
                    c.linear_counted.forward == c.linear_formula.forward &&
                    c.linear_counted.backward == c.linear_formula.backward);
  checks.close("cost: the counted products give attention_backward's gradients", c.counted_vs_backward,
               1e-12);
  bool about_two = true;
  for (const CostRow& r : c.rows) about_two = about_two && r.madds.ratio() >= 2.0 && r.madds.ratio() < 2.5;
  checks.expect("cost: backward / forward is between 2 and 2.5 at every size", about_two);
  checks.close("cost: section 4's activations are the formula's bytes",
               std::abs(c.demo_bytes_measured - c.rows[0].bytes), 0.0);
  return checks;
}

// ---- --load DIR ----------------------------------------------------------------------------------------

// What the backward of these files needs, estimated before it runs (the cost constants are in cli.hpp):
// the (L, S) scores, weights, dP, dS and their copies and transposes (8 matrices), the inputs and their
// gradients; the work of the forward's two products, the backward's four, an exponential per score,
// the fresh (L, S) matrices, and at most 64 printed numbers per result.
Cost attention_files_cost(double L, double S, double E, double Ev) {
  return {8.0 * (8.0 * L * S + 3.0 * (L + S) * (E + Ev)),
          3.0 * L * S * (E + Ev) + L * S * (math_call + 8.0 * fresh_double) + 4.0 * 64.0 * printed_number};
}

// The same for multi-head files: per head, the scores' matrices as above; the projections' products
// and their gradients (3 per product: forward, dx, dW); at most 64 numbers printed per result.
Cost multi_head_files_cost(double L, double S, double E, double H) {
  const MultiplyAdds products = multi_head_cost(L, S, E, H);
  return {8.0 * (8.0 * H * L * S + 20.0 * (L + S) * E + 10.0 * E * E),
          products.forward + products.backward + H * L * S * (math_call + 8.0 * fresh_double) +
              20.0 * (L + S) * E * fresh_double + 6.0 * 64.0 * printed_number};
}

// Each row of weights sums to 1, or to 0 where the row is fully masked: a check whatever the inputs'
// size, since weights are in [0, 1] (the error is at most about S times the unit roundoff).
double weights_sum_error(const Matrix& weights) {
  double worst = 0;
  for (std::size_t i = 0; i < weights.shape(0); ++i) {
    double sum = 0;
    for (std::size_t j = 0; j < weights.shape(1); ++j) sum += weights(i, j);
    worst = std::max(worst, sum == 0.0 ? 0.0 : std::abs(sum - 1.0));
  }
  return worst;
}

// Scaled dot-product files: query, key, value, grad_output.
struct LoadedAttention {
  std::size_t S = 0;             // keys
  AttentionResult forward;       // output (L, Ev), weights (L, S)
  AttentionGradients gradients;  // q (L, E), k (S, E), v (S, Ev)
};

LoadedAttention compute_loaded_attention(const Options& opt) {
  const std::string& dir = opt.common.load_dir;
  if (opt.heads_given)
    throw usage_error(
        "--heads applies to multi-head files (in_proj_weight.npy), not to query/key/value alone");
  // The shared loaders refuse empty arrays, NaN, infinities and values above 1e15 (npy.hpp).
  const AttentionInputs in = load_attention_inputs(dir);
  const std::size_t L = in.query.shape(0), S = in.key.shape(0), E = in.query.shape(1), Ev = in.value.shape(1);
  const Matrix grad_output = load_matrix(dir, "grad_output", "(L, Ev)");
  require_shape("grad_output.npy", grad_output, {L, Ev}, "(L, Ev), the shape of the output");
  require_no_unread_files(dir, {"output", "weights", "query.grad", "key.grad", "value.grad"},
                          "the files of attention without in_proj_weight.npy");
  if (opt.causal && L != S)
    throw usage_error(fmt::format("--causal needs as many queries as keys, but L = {} and S = {}", L, S));
  require_within_limits(attention_files_cost(L, S, E, Ev),
                        fmt::format("the backward of attention on ({}, {}) scores", L, S));
  LoadedAttention r;
  r.S = S;
  r.forward = masked_attention(in.query, in.key, in.value, opt.causal ? causal_mask(L) : no_mask(L, S));
  r.gradients = attention_backward(in.query, in.key, in.value, r.forward.weights, grad_output);
  return r;
}

int run_loaded_attention(const Options& opt) {
  const LoadedAttention r = compute_loaded_attention(opt);
  print_title(fmt::format("Chapter 13 · Attention backward on {}{}", opt.common.load_dir,
                          opt.causal ? " (causal)" : ""));
  const AttentionGradients& g = r.gradients;
  report_results({shown_result("output", r.forward.output, "output = softmax(query keyᵀ / √E) value"),
                  named_result("weights", r.forward.weights), shown_result("query.grad", g.q),
                  shown_result("key.grad", g.k), shown_result("value.grad", g.v)},
                 opt.common.save_dir);
  print_section("Self-checks");
  SelfChecks checks;
  checks.below("weights: each row sums to 1 (0 where fully masked)", weights_sum_error(r.forward.weights),
               1e-15 * static_cast<double>(r.S) + 1e-13);
  return checks.exit_code();
}

// attn_output and the seven gradients as PyTorch names them; `print` shows attn_output and the
// gradients of the inputs and of the two weight matrices.
std::vector<NamedResult> multi_head_results(const Matrix& output, const MultiHeadGradients& g, bool print) {
  const auto result = [print](const std::string& name, const Matrix& m) {
    return print ? shown_result(name, m) : named_result(name, m);
  };
  return {result("attn_output", output),
          result("query.grad", g.query),
          result("key.grad", g.key),
          result("value.grad", g.value),
          result("in_proj_weight.grad", g.in_proj_weight),
          named_result("in_proj_bias.grad", g.in_proj_bias),
          result("out_proj.weight.grad", g.out_proj_weight),
          named_result("out_proj.bias.grad", g.out_proj_bias)};
}

// torch.nn.MultiheadAttention files (chapter 05's) plus grad_output.
struct LoadedMultiHead {
  AttentionLayerFiles files;     // query (L, E), key and value (S, E), the weights, mask (L, S)
  std::size_t heads = 0;         // H
  MultiHeadForward forward;      // output = attn_output (L, E), saved.weights (H, L, S)
  MultiHeadGradients gradients;  // of the inputs and the four weights
};

LoadedMultiHead compute_loaded_multi_head(const Options& opt) {
  const std::string& dir = opt.common.load_dir;
  if (opt.causal)
    throw usage_error(
        "--causal applies to query/key/value files; for multi-head files, save the mask as attn_mask.npy");
  LoadedMultiHead r;
  r.files = load_attention_layer(dir);
  const AttentionLayerFiles& f = r.files;
  const std::size_t L = f.query.shape(0), S = f.key.shape(0), E = f.query.shape(1);
  const std::size_t H =
      opt.heads_given ? static_cast<std::size_t>(opt.heads) : 1;  // PyTorch's default: 1 head
  if (E % H != 0) throw usage_error(fmt::format("--heads {} does not divide E = {} of query.npy", H, E));
  const Matrix grad_output = load_matrix(dir, "grad_output", "(L, E)");
  require_shape("grad_output.npy", grad_output, {L, E}, "(L, E), the shape of attn_output");
  require_no_unread_files(dir,
                          {"attn_output", "query.grad", "key.grad", "value.grad", "in_proj_weight.grad",
                           "in_proj_bias.grad", "out_proj.weight.grad", "out_proj.bias.grad"},
                          "torch.nn.MultiheadAttention's files");
  require_within_limits(multi_head_files_cost(L, S, E, H),
                        fmt::format("the backward of {} heads on ({}, {}) scores with E = {}", H, L, S, E));
  r.heads = H;
  const MultiHeadWeights w{f.in_proj_weight, f.in_proj_bias, f.out_proj_weight, f.out_proj_bias};
  r.forward = multi_head_attention_forward(f.query, f.key, f.value, w, H, f.mask);
  r.gradients = multi_head_attention_backward(r.forward.saved, w, grad_output);
  return r;
}

int run_loaded_multi_head(const Options& opt) {
  const LoadedMultiHead r = compute_loaded_multi_head(opt);
  print_title(fmt::format("Chapter 13 · Multi-head attention backward ({} head{}) on {}", r.heads,
                          r.heads == 1 ? "" : "s", opt.common.load_dir));
  report_results(multi_head_results(r.forward.output, r.gradients, /*print=*/true), opt.common.save_dir);
  print_section("Self-checks");
  SelfChecks checks;
  const AttentionLayerFiles& f = r.files;
  double worst = 0;
  for (std::size_t h = 0; h < r.heads; ++h)
    worst = std::max(worst,
                     weights_sum_error(Matrix(xt::view(r.forward.saved.weights, h, xt::all(), xt::all()))));
  checks.below("every head's weights: each row sums to 1 (0 where fully masked)", worst,
               1e-15 * static_cast<double>(f.key.shape(0)) + 1e-13);
  const MultiHeadWeights w{f.in_proj_weight, f.in_proj_bias, f.out_proj_weight, f.out_proj_bias};
  checks.expect(
      "attn_output is chapter 05's multi_head_attention, bit for bit",
      max_abs_diff(r.forward.output,
                   multi_head_attention(f.query, f.key, f.value, w, r.heads, f.mask).output) == 0.0);
  return checks.exit_code();
}

// --save DIR without --load: section 4's example as PyTorch files, inputs and results.
std::vector<NamedResult> example_files(const MultiHeadExample& e) {
  std::vector<NamedResult> files = {named_result("query", e.query), named_result("key", e.key),
                                    named_result("value", e.value),
                                    named_result("grad_output", e.grad_output)};
  for (const NamedResult& f : multi_head_weight_files(e.w)) files.push_back(f);
  for (const NamedResult& f : multi_head_results(e.forward.output, e.g, /*print=*/false)) files.push_back(f);
  return files;
}

int run(const Options& opt) {
  if (!opt.common.load_dir.empty())
    return npy_exists(opt.common.load_dir, "in_proj_weight") ? run_loaded_multi_head(opt)
                                                             : run_loaded_attention(opt);
  if (opt.causal)
    throw usage_error("--causal applies to --load DIR (this run's own example is causal already)");
  const std::size_t heads = static_cast<std::size_t>(opt.heads);
  if (kDemoE % heads != 0)
    throw usage_error(fmt::format("--heads {} does not divide d_model = {}", heads, kDemoE));
  require_within_limits(cost_of(opt), "the default run");
  print_title("Chapter 13 · Backpropagation");
  print_config(
      "sizes",
      fmt::format("sections 3, 5: L = S = 6, d_k = 4, d_v = 3; section 4: E = {}, {} heads (--heads)", kDemoE,
                  heads));
  print_config("gradient check",
               fmt::format("central differences, ε = {:.0e} (section 5 tries 1e-1 ... 1e-12)", kStep));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  const LinearExample lin = compute_linear();
  const SoftmaxExample sm = compute_softmax();
  const MaskedExample masked = compute_masked(rng);
  const MultiHeadExample mh = compute_multi_head(rng, heads);
  const VCurve v = compute_v_curve(masked);
  const CostExample cost = compute_cost(lin, masked, mh);
  show_linear(lin);
  show_softmax(sm);
  show_masked(masked);
  show_multi_head(mh);
  show_v_curve(v);
  show_cost(cost);
  if (!opt.common.save_dir.empty()) report_results(example_files(mh), opt.common.save_dir);
  Figures figures(opt.common);
  draw(masked, v, figures);
  const SelfChecks checks = self_checks(lin, sm, masked, mh, v, cost);
  figures.report();
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 13: backpropagation through linear, softmax and attention, checked",
               "ch13_backpropagation"};
  Options opt;
  CLI::Option* heads =
      app.add_option("--heads", opt.heads,
                     "Heads H: section 4's (must divide 8), or of --load files (there 1 if not given)")
          ->check(whole_number_in(1, 10000))
          ->capture_default_str();
  app.add_flag("--causal", opt.causal, "With --load of query/key/value files: the causal mask (needs L = S)");
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] {
    opt.heads_given = heads->count() > 0;
    return run(opt);
  });
}

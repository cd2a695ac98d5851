// Chapter 13 — given code (declared in chapters/13_backpropagation/given.hpp): linear_backward and the
// multi-head attention forward and backward, built on the exercise's attention_backward.
#include "13_backpropagation/given.hpp"

#include "linalg.hpp"  // product, product_tn

#include <fmt/format.h>

#include <stdexcept>

namespace course {

namespace {

// Rows [first, first + count) of w, entries [first, first + count) of b.
Matrix rows_of(const Matrix& w, std::size_t first, std::size_t count) {
  return xt::view(w, xt::range(first, first + count), xt::all());
}
Vector entries_of(const Vector& b, std::size_t first, std::size_t count) {
  return xt::view(b, xt::range(first, first + count));
}

// Head h of a (H, n, d) tensor, as an (n, d) matrix.
Matrix head(const Tensor3& t, std::size_t h) {
  return xt::view(t, h, xt::all(), xt::all());
}

void require_weights_fit(const MultiHeadWeights& w, std::size_t E, const char* who) {
  if (w.in_proj_weight.shape(0) != 3 * E || w.in_proj_weight.shape(1) != E ||
      w.in_proj_bias.size() != 3 * E || w.out_proj_weight.shape(0) != E || w.out_proj_weight.shape(1) != E ||
      w.out_proj_bias.size() != E) {
    throw std::invalid_argument(fmt::format(
        "{}: in_proj_weight {}, in_proj_bias {}, out_proj.weight {}, out_proj.bias {} do not fit E = {}", who,
        shape_of(w.in_proj_weight), shape_of(w.in_proj_bias), shape_of(w.out_proj_weight),
        shape_of(w.out_proj_bias), E));
  }
}

}  // namespace

// ⟨a, b⟩ = Σ a ⊙ b
double sum_of_products(const Matrix& a, const Matrix& b) {
  if (a.shape() != b.shape()) {
    throw std::invalid_argument(
        fmt::format("sum_of_products: shapes {} and {} differ", shape_of(a), shape_of(b)));
  }
  double sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += a.data()[i] * b.data()[i];
  return sum;
}

// x (n, in), w (out, in), dY (n, out)  ->  dx = dY W (n, in), dW = dYᵀ x (out, in), db = Σ over rows of dY (out)
// The products go through common/linalg.hpp (OpenBLAS's dgemm; product_tn reads dY as stored, no
// transpose copied): the course's own layers, forward and backward, run on BLAS.
LinearGradients linear_backward(const Matrix& x, const Matrix& w, const Matrix& grad_y) {
  const std::size_t n = x.shape(0), in = x.shape(1), out = w.shape(0);
  if (w.shape(1) != in || grad_y.shape(0) != n || grad_y.shape(1) != out) {
    throw std::invalid_argument(
        fmt::format("linear_backward: x {}, weight {} and grad_y {} do not fit (x (n, in), weight (out, in), "
                    "grad_y (n, out))",
                    shape_of(x), shape_of(w), shape_of(grad_y)));
  }
  LinearGradients g;
  g.x = product(grad_y, w);          // (n, out)(out, in)
  g.weight = product_tn(grad_y, x);  // (out, n)(n, in)
  g.bias = xt::zeros<double>({out});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t o = 0; o < out; ++o) g.bias(o) += grad_y(i, o);
  return g;
}

double MultiHeadActivations::bytes() const {
  const std::size_t entries = query.size() + key.size() + value.size() + q_heads.size() + k_heads.size() +
                              v_heads.size() + weights.size() + merged.size();
  return 8.0 * static_cast<double>(entries);
}

// chapter 05's forward, keeping Q, K, V per head, P per head and the merged heads
MultiHeadForward multi_head_attention_forward(const Matrix& query, const Matrix& key, const Matrix& value,
                                              const MultiHeadWeights& w, std::size_t n_heads,
                                              const BoolMatrix& mask) {
  const std::size_t L = query.shape(0), S = key.shape(0), E = query.shape(1);
  if (key.shape(1) != E || value.shape(1) != E || value.shape(0) != S) {
    throw std::invalid_argument(
        fmt::format("multi_head_attention_forward: query {}, key {}, value {} do not fit", shape_of(query),
                    shape_of(key), shape_of(value)));
  }
  require_weights_fit(w, E, "multi_head_attention_forward");
  MultiHeadForward f;
  MultiHeadActivations& a = f.saved;
  a.n_heads = n_heads;
  a.query = query;
  a.key = key;
  a.value = value;
  // 1. project: Q (L, E), K (S, E), V (S, E); 2. split into heads (split_heads refuses an n_heads
  //    that does not divide E)
  const Matrix q = linear(query, rows_of(w.in_proj_weight, 0, E), entries_of(w.in_proj_bias, 0, E));
  const Matrix k = linear(key, rows_of(w.in_proj_weight, E, E), entries_of(w.in_proj_bias, E, E));
  const Matrix v = linear(value, rows_of(w.in_proj_weight, 2 * E, E), entries_of(w.in_proj_bias, 2 * E, E));
  a.q_heads = split_heads(q, n_heads);
  a.k_heads = split_heads(k, n_heads);
  a.v_heads = split_heads(v, n_heads);
  // 3. attend within each head, keeping P
  const std::size_t d_head = E / n_heads;
  Tensor3 outputs = Tensor3::from_shape({n_heads, L, d_head});
  a.weights = Tensor3::from_shape({n_heads, L, S});
  for (std::size_t h = 0; h < n_heads; ++h) {
    const AttentionResult r =
        masked_attention(head(a.q_heads, h), head(a.k_heads, h), head(a.v_heads, h), mask);
    xt::view(outputs, h, xt::all(), xt::all()) = r.output;
    xt::view(a.weights, h, xt::all(), xt::all()) = r.weights;
  }
  // 4. concatenate the heads and project
  a.merged = merge_heads(outputs);
  f.output = linear(a.merged, w.out_proj_weight, w.out_proj_bias);
  return f;
}

// the forward's four steps undone, the last one first
MultiHeadGradients multi_head_attention_backward(const MultiHeadActivations& saved, const MultiHeadWeights& w,
                                                 const Matrix& grad_output) {
  const std::size_t L = saved.query.shape(0), E = saved.query.shape(1), H = saved.n_heads;
  require_weights_fit(w, E, "multi_head_attention_backward");
  if (grad_output.shape(0) != L || grad_output.shape(1) != E) {
    throw std::invalid_argument(
        fmt::format("multi_head_attention_backward: grad_output is {} but the output is ({}, {})",
                    shape_of(grad_output), L, E));
  }
  MultiHeadGradients g;
  // 4. out_proj: output = merged W_oᵀ + b_o
  const LinearGradients out = linear_backward(saved.merged, w.out_proj_weight, grad_output);
  g.out_proj_weight = out.weight;
  g.out_proj_bias = out.bias;
  // 3. merged = merge_heads(outputs), so its gradient split the same way is each head's dO
  const Tensor3 grad_outputs = split_heads(out.x, H);
  // 2. each head's attention backward (the exercise); the heads' gradients side by side again
  Tensor3 dq = Tensor3::from_shape(saved.q_heads.shape());
  Tensor3 dk = Tensor3::from_shape(saved.k_heads.shape());
  Tensor3 dv = Tensor3::from_shape(saved.v_heads.shape());
  for (std::size_t h = 0; h < H; ++h) {
    const AttentionGradients a =
        attention_backward(head(saved.q_heads, h), head(saved.k_heads, h), head(saved.v_heads, h),
                           head(saved.weights, h), head(grad_outputs, h));
    xt::view(dq, h, xt::all(), xt::all()) = a.q;
    xt::view(dk, h, xt::all(), xt::all()) = a.k;
    xt::view(dv, h, xt::all(), xt::all()) = a.v;
  }
  // 1. in_proj: Q = query W_qᵀ + b_q, K = key W_kᵀ + b_k, V = value W_vᵀ + b_v
  const LinearGradients gq = linear_backward(saved.query, rows_of(w.in_proj_weight, 0, E), merge_heads(dq));
  const LinearGradients gk = linear_backward(saved.key, rows_of(w.in_proj_weight, E, E), merge_heads(dk));
  const LinearGradients gv =
      linear_backward(saved.value, rows_of(w.in_proj_weight, 2 * E, E), merge_heads(dv));
  g.query = gq.x;
  g.key = gk.x;
  g.value = gv.x;
  g.in_proj_weight = Matrix::from_shape({3 * E, E});
  g.in_proj_bias = Vector::from_shape({3 * E});
  for (std::size_t r = 0; r < E; ++r) {
    for (std::size_t c = 0; c < E; ++c) {
      g.in_proj_weight(r, c) = gq.weight(r, c);
      g.in_proj_weight(E + r, c) = gk.weight(r, c);
      g.in_proj_weight(2 * E + r, c) = gv.weight(r, c);
    }
    g.in_proj_bias(r) = gq.bias(r);
    g.in_proj_bias(E + r) = gk.bias(r);
    g.in_proj_bias(2 * E + r) = gv.bias(r);
  }
  return g;
}

MultiHeadGradients multi_head_attention_backward(const Matrix& query, const Matrix& key, const Matrix& value,
                                                 const MultiHeadWeights& w, std::size_t n_heads,
                                                 const BoolMatrix& mask, const Matrix& grad_output) {
  const MultiHeadForward forward = multi_head_attention_forward(query, key, value, w, n_heads, mask);
  return multi_head_attention_backward(forward.saved, w, grad_output);
}

}  // namespace course

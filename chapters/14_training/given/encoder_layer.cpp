// Chapter 14 — given code (declared in chapters/14_training/given.hpp): the encoder layer's steps (layer
// norm, multi-head self-attention, the feed-forward network), each a forward that keeps what its
// backward needs and that backward, side by side; then the layer built from them. The backwards run on
// the exercise's layer_norm_backward and chapter 13's attention_backward.
#include "01_tensors/given.hpp"  // linear
#include "14_training/given.hpp"
#include "gradcheck.hpp"
#include "linalg.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace course {

namespace {

void require_layer_fits(const EncoderLayerWeights& w, std::size_t E, const char* who) {
  const std::size_t F = w.linear1_weight.shape(0);
  const bool fits = w.linear1_weight.shape(1) == E && w.linear1_bias.size() == F &&
                    w.linear2_weight.shape(0) == E && w.linear2_weight.shape(1) == F &&
                    w.linear2_bias.size() == E && w.norm1_weight.size() == E && w.norm1_bias.size() == E &&
                    w.norm2_weight.size() == E && w.norm2_bias.size() == E;
  if (!fits) {
    throw std::invalid_argument(
        fmt::format("{}: linear1.weight {}, linear1.bias {}, linear2.weight {}, linear2.bias {} or a norm's "
                    "vectors do not "
                    "fit E = {}",
                    who, shape_of(w.linear1_weight), shape_of(w.linear1_bias), shape_of(w.linear2_weight),
                    shape_of(w.linear2_bias), E));
  }
}

}  // namespace

// relu(x) = max(0, x);  gelu(x) = x (1 + erf(x / √2)) / 2
Matrix activate(const Matrix& x, Activation act) {
  Matrix y = x;
  for (double& v : y)
    v = act == Activation::relu ? std::max(v, 0.0) : 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
  return y;
}

// relu'(x) = [x > 0];  gelu'(x) = Φ(x) + x φ(x)
Matrix activation_derivative(const Matrix& x, Activation act) {
  const double inv_sqrt_2pi = 1.0 / std::sqrt(2.0 * M_PI);
  Matrix d = x;
  for (double& v : d) {
    if (act == Activation::relu) {
      v = v > 0.0 ? 1.0 : 0.0;
    } else {
      v = 0.5 * (1.0 + std::erf(v / std::sqrt(2.0))) + v * inv_sqrt_2pi * std::exp(-0.5 * v * v);
    }
  }
  return d;
}

// --- layer norm -----------------------------------------------------------------------------------------

// per row: μ = Σ x / E,  rstd = 1 / sqrt(Σ (x − μ)² / E + eps),  y = (x − μ) · rstd · γ + β
Matrix layer_norm_forward(const Matrix& x, const Vector& gamma, const Vector& beta,
                          LayerNormActivations& saved, double eps) {
  const std::size_t n = x.shape(0), E = x.shape(1);
  if (gamma.size() != E || beta.size() != E) {
    throw std::invalid_argument(
        fmt::format("layer_norm_forward: x is {} but gamma has {} and beta {} entries", shape_of(x),
                    gamma.size(), beta.size()));
  }
  saved.x = x;
  saved.mean = Vector::from_shape({n});
  saved.rstd = Vector::from_shape({n});
  Matrix y = Matrix::from_shape({n, E});
  for (std::size_t i = 0; i < n; ++i) {
    const double* row = &x(i, 0);
    double sum = 0.0, squares = 0.0;
    for (std::size_t j = 0; j < E; ++j) sum += row[j];
    const double mu = sum / static_cast<double>(E);
    for (std::size_t j = 0; j < E; ++j) squares += (row[j] - mu) * (row[j] - mu);
    const double rstd = 1.0 / std::sqrt(squares / static_cast<double>(E) + eps);
    for (std::size_t j = 0; j < E; ++j) y(i, j) = (row[j] - mu) * rstd * gamma(j) + beta(j);
    saved.mean(i) = mu;
    saved.rstd(i) = rstd;
  }
  return y;
}

LayerNormGradients layer_norm_backward(const LayerNormActivations& saved, const Vector& gamma,
                                       const Matrix& grad_y) {
  return layer_norm_backward(saved.x, saved.mean, saved.rstd, gamma, grad_y);
}

// --- multi-head self-attention ----------------------------------------------------------------------------

// qkv = x W_inᵀ + b_in;  per sequence and head: P = softmax(q kᵀ / √d), merged = P v;  out = merged W_outᵀ + b_out
Matrix self_attention_forward(const Matrix& x, const MultiHeadWeights& w, std::size_t seq_len,
                              std::size_t n_heads, const BoolMatrix& mask, SelfAttentionActivations& a) {
  const std::size_t L = seq_len, H = n_heads, E = x.shape(1), B = x.shape(0) / L, d = E / H;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  a.seq_len = L;
  a.n_heads = H;
  a.x = x;
  // 1. Q | K | V (B·L, 3E) in one product
  a.qkv = linear(x, w.in_proj_weight, w.in_proj_bias);
  a.weights = xt::zeros<double>({B, H, L, L});
  a.merged = xt::zeros<double>({B * L, E});
  std::vector<double> scores(L);
  for (std::size_t b = 0; b < B; ++b) {
    for (std::size_t h = 0; h < H; ++h) {
      // 2. head h of sequence b: columns [h d, (h + 1) d) of Q, K and V, rows [b L, (b + 1) L)
      const std::size_t q0 = h * d, k0 = E + h * d, v0 = 2 * E + h * d, r0 = b * L;
      for (std::size_t i = 0; i < L; ++i) {
        // 3. scores q_i · k_j / √d, -inf where masked, and their softmax (all masked: zeros)
        const double* q_i = &a.qkv(r0 + i, q0);  // rows are contiguous: q_i[c] = Q[r0 + i][q0 + c]
        double max = -INFINITY;
        for (std::size_t j = 0; j < L; ++j) {
          const double* k_j = &a.qkv(r0 + j, k0);
          double s = 0.0;
          for (std::size_t c = 0; c < d; ++c) s += q_i[c] * k_j[c];
          scores[j] = mask(i, j) ? -INFINITY : s * scale;
          max = std::max(max, scores[j]);
        }
        if (max == -INFINITY) continue;
        double sum = 0.0;
        for (std::size_t j = 0; j < L; ++j) {
          scores[j] = std::exp(scores[j] - max);
          sum += scores[j];
        }
        // 4. the weights, and the head's output into its columns of the merged heads: Σ_j P_ij v_j
        double* out_i = &a.merged(r0 + i, q0);
        for (std::size_t j = 0; j < L; ++j) {
          const double p = scores[j] / sum;
          a.weights(b, h, i, j) = p;
          const double* v_j = &a.qkv(r0 + j, v0);
          for (std::size_t c = 0; c < d; ++c) out_i[c] += p * v_j[c];
        }
      }
    }
  }
  // 5. out_proj, in one product
  return linear(a.merged, w.out_proj_weight, w.out_proj_bias);
}

// out_proj's backward, each sequence's heads (chapter 13's attention_backward), in_proj's backward
SelfAttentionGradients self_attention_backward(const SelfAttentionActivations& a, const MultiHeadWeights& w,
                                               const Matrix& grad_output) {
  const std::size_t L = a.seq_len, H = a.n_heads, E = a.x.shape(1), d = E / H, B = a.weights.shape(0);
  SelfAttentionGradients grad;
  const LinearGradients out = linear_backward(a.merged, w.out_proj_weight, grad_output);
  grad.weights.out_proj_weight = out.weight;
  grad.weights.out_proj_bias = out.bias;
  Matrix d_qkv = Matrix::from_shape({B * L, 3 * E});
  Matrix q = Matrix::from_shape({L, d}), k = q, v = q, d_o = q, p = Matrix::from_shape({L, L});
  for (std::size_t b = 0; b < B; ++b) {  // in order: the same sums on every run
    for (std::size_t h = 0; h < H; ++h) {
      const std::size_t q0 = h * d, k0 = E + h * d, v0 = 2 * E + h * d, r0 = b * L;
      for (std::size_t i = 0; i < L; ++i) {
        for (std::size_t c = 0; c < d; ++c) {
          q(i, c) = a.qkv(r0 + i, q0 + c);
          k(i, c) = a.qkv(r0 + i, k0 + c);
          v(i, c) = a.qkv(r0 + i, v0 + c);
          d_o(i, c) = out.x(r0 + i, q0 + c);
        }
        for (std::size_t j = 0; j < L; ++j) p(i, j) = a.weights(b, h, i, j);
      }
      const AttentionGradients g = attention_backward(q, k, v, p, d_o);
      for (std::size_t i = 0; i < L; ++i) {
        for (std::size_t c = 0; c < d; ++c) {
          d_qkv(r0 + i, q0 + c) = g.q(i, c);
          d_qkv(r0 + i, k0 + c) = g.k(i, c);
          d_qkv(r0 + i, v0 + c) = g.v(i, c);
        }
      }
    }
  }
  const LinearGradients in = linear_backward(a.x, w.in_proj_weight, d_qkv);
  grad.weights.in_proj_weight = in.weight;
  grad.weights.in_proj_bias = in.bias;
  grad.x = in.x;
  return grad;
}

// --- the feed-forward network ---------------------------------------------------------------------------

// FF(x) = linear2(act(linear1(x)))
Matrix feed_forward_forward(const Matrix& x, const Matrix& linear1_weight, const Vector& linear1_bias,
                            const Matrix& linear2_weight, const Vector& linear2_bias, Activation act,
                            FeedForwardActivations& a) {
  a.activation = act;
  a.x = x;
  a.hidden_pre = linear(x, linear1_weight, linear1_bias);
  a.hidden = activate(a.hidden_pre, act);
  return linear(a.hidden, linear2_weight, linear2_bias);
}

// linear2's backward, times act'(hidden_pre), linear1's backward
FeedForwardGradients feed_forward_backward(const FeedForwardActivations& a, const Matrix& linear1_weight,
                                           const Matrix& linear2_weight, const Matrix& grad_output) {
  const LinearGradients l2 = linear_backward(a.hidden, linear2_weight, grad_output);
  const Matrix d_hidden_pre = l2.x * activation_derivative(a.hidden_pre, a.activation);
  const LinearGradients l1 = linear_backward(a.x, linear1_weight, d_hidden_pre);
  return {l1.x, l1.weight, l1.bias, l2.weight, l2.bias};
}

// --- the encoder layer ------------------------------------------------------------------------------------

// post-norm: x1 = norm1(x + SA(x)), out = norm2(x1 + FF(x1))
// pre-norm:  x1 = x + SA(norm1(x)),  out = x1 + FF(norm2(x1))
EncoderLayerForward encoder_layer_forward(const Matrix& src, std::size_t seq_len,
                                          const EncoderLayerWeights& w, std::size_t n_heads, bool norm_first,
                                          Activation act, const BoolMatrix& mask) {
  const std::size_t rows_total = src.shape(0), E = src.shape(1), H = n_heads;
  if (seq_len == 0 || rows_total % seq_len != 0) {
    throw std::invalid_argument(
        fmt::format("encoder_layer_forward: src has {} rows, not a whole number of sequences of {}",
                    rows_total, seq_len));
  }
  require_layer_fits(w, E, "encoder_layer_forward");
  if (H == 0 || E % H != 0) {
    throw std::invalid_argument(fmt::format("encoder_layer_forward: {} heads do not divide E = {}", H, E));
  }
  if (w.self_attn.in_proj_weight.shape(0) != 3 * E || w.self_attn.in_proj_weight.shape(1) != E ||
      w.self_attn.in_proj_bias.size() != 3 * E || w.self_attn.out_proj_weight.shape(0) != E ||
      w.self_attn.out_proj_weight.shape(1) != E || w.self_attn.out_proj_bias.size() != E) {
    throw std::invalid_argument(
        fmt::format("encoder_layer_forward: self_attn's weights do not fit E = {}", E));
  }
  if (mask.shape(0) != seq_len || mask.shape(1) != seq_len) {
    throw std::invalid_argument(
        fmt::format("encoder_layer_forward: the mask is {} but must be (L, L) = ({}, {})", shape_of(mask),
                    seq_len, seq_len));
  }
  EncoderLayerForward f;
  EncoderLayerActivations& a = f.saved;
  a.norm_first = norm_first;
  if (norm_first) {
    // x1 = x + SA(norm1(x))
    const Matrix h1 = layer_norm_forward(src, w.norm1_weight, w.norm1_bias, a.norm1);
    const Matrix x1 = src + self_attention_forward(h1, w.self_attn, seq_len, H, mask, a.attention);
    // out = x1 + FF(norm2(x1))
    const Matrix h2 = layer_norm_forward(x1, w.norm2_weight, w.norm2_bias, a.norm2);
    f.output = x1 + feed_forward_forward(h2, w.linear1_weight, w.linear1_bias, w.linear2_weight,
                                         w.linear2_bias, act, a.feed_forward);
  } else {
    // x1 = norm1(x + SA(x))
    const Matrix h1 = src + self_attention_forward(src, w.self_attn, seq_len, H, mask, a.attention);
    const Matrix x1 = layer_norm_forward(h1, w.norm1_weight, w.norm1_bias, a.norm1);
    // out = norm2(x1 + FF(x1))
    const Matrix h2 = x1 + feed_forward_forward(x1, w.linear1_weight, w.linear1_bias, w.linear2_weight,
                                                w.linear2_bias, act, a.feed_forward);
    f.output = layer_norm_forward(h2, w.norm2_weight, w.norm2_bias, a.norm2);
  }
  return f;
}

// the forward's steps undone, the last one first; a residual adds the gradients of its two paths
EncoderLayerGradients encoder_layer_backward(const EncoderLayerActivations& saved,
                                             const EncoderLayerWeights& w, const Matrix& grad_output) {
  const std::size_t E = saved.norm1.x.shape(1);
  if (grad_output.shape() != saved.norm1.x.shape()) {
    throw std::invalid_argument(fmt::format("encoder_layer_backward: grad_output is {} but the output is {}",
                                            shape_of(grad_output), shape_of(saved.norm1.x)));
  }
  require_layer_fits(w, E, "encoder_layer_backward");
  EncoderLayerGradients g;
  LayerNormGradients norm1, norm2;
  SelfAttentionGradients attention;
  FeedForwardGradients ff;
  if (saved.norm_first) {
    // out = x1 + FF(norm2(x1)):  dx1 = d out + norm2'(FF'(d out))
    ff = feed_forward_backward(saved.feed_forward, w.linear1_weight, w.linear2_weight, grad_output);
    norm2 = layer_norm_backward(saved.norm2, w.norm2_weight, ff.x);
    const Matrix dx1 = grad_output + norm2.x;
    // x1 = x + SA(norm1(x)):  dx = dx1 + norm1'(SA'(dx1))
    attention = self_attention_backward(saved.attention, w.self_attn, dx1);
    norm1 = layer_norm_backward(saved.norm1, w.norm1_weight, attention.x);
    g.src = dx1 + norm1.x;
  } else {
    // out = norm2(h2), h2 = x1 + FF(x1):  d h2 = norm2'(d out);  dx1 = d h2 + FF'(d h2)
    norm2 = layer_norm_backward(saved.norm2, w.norm2_weight, grad_output);
    ff = feed_forward_backward(saved.feed_forward, w.linear1_weight, w.linear2_weight, norm2.x);
    const Matrix dx1 = norm2.x + ff.x;
    // x1 = norm1(h1), h1 = x + SA(x):  d h1 = norm1'(dx1);  dx = d h1 + SA'(d h1)
    norm1 = layer_norm_backward(saved.norm1, w.norm1_weight, dx1);
    attention = self_attention_backward(saved.attention, w.self_attn, norm1.x);
    g.src = norm1.x + attention.x;
  }
  // the twelve parameters' gradients, as the parameters are stored
  g.weights.self_attn = std::move(attention.weights);
  g.weights.linear1_weight = std::move(ff.linear1_weight);
  g.weights.linear1_bias = std::move(ff.linear1_bias);
  g.weights.linear2_weight = std::move(ff.linear2_weight);
  g.weights.linear2_bias = std::move(ff.linear2_bias);
  g.weights.norm1_weight = std::move(norm1.weight);
  g.weights.norm1_bias = std::move(norm1.bias);
  g.weights.norm2_weight = std::move(norm2.weight);
  g.weights.norm2_bias = std::move(norm2.bias);
  return g;
}

// the twelve tensors in state_dict order
std::vector<NamedTensor> named_tensors(EncoderLayerWeights& w, const std::string& prefix) {
  std::vector<NamedTensor> t;
  t.push_back(named_tensor(prefix + "self_attn.in_proj_weight", w.self_attn.in_proj_weight));
  t.push_back(named_tensor(prefix + "self_attn.in_proj_bias", w.self_attn.in_proj_bias));
  t.push_back(named_tensor(prefix + "self_attn.out_proj.weight", w.self_attn.out_proj_weight));
  t.push_back(named_tensor(prefix + "self_attn.out_proj.bias", w.self_attn.out_proj_bias));
  add_weight_and_bias(t, prefix + "linear1", w.linear1_weight, w.linear1_bias);
  add_weight_and_bias(t, prefix + "linear2", w.linear2_weight, w.linear2_bias);
  add_weight_and_bias(t, prefix + "norm1", w.norm1_weight, w.norm1_bias);
  add_weight_and_bias(t, prefix + "norm2", w.norm2_weight, w.norm2_bias);
  return t;
}

std::vector<double> flat_entries(const NamedTensor& t) {
  return std::vector<double>(t.data, t.data + t.size);
}

std::vector<double> numerical_gradient_in_place(const NamedTensor& t, const std::function<double()>& loss,
                                                double eps) {
  return numerical_gradient_in_place(t.data, t.size, loss, eps);
}

std::vector<std::string> tensor_names(const std::vector<NamedTensor>& tensors, const std::string& suffix) {
  std::vector<std::string> names;
  for (const NamedTensor& t : tensors) names.push_back(t.name + suffix);
  return names;
}

}  // namespace course

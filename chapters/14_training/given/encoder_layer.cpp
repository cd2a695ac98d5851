// Chapter 14 — given code (declared in chapters/14_training/given.hpp): the encoder layer's forward pass
// keeping its activations, and its backward pass on the exercise's layer_norm_backward and chapter 13's
// multi-head backward.
#include "14_training/given.hpp"
#include "gradcheck.hpp"
#include "linalg.hpp"
#include "npy.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace course {

namespace {

constexpr double kNormEps = 1e-5;  // PyTorch's layer_norm_eps default

// y = x Wᵀ + b:  x (n, in), w (out, in), b (out)  ->  (n, out)
Matrix affine(const Matrix& x, const Matrix& w, const Vector& b) {
  Matrix y = product_nt(x, w);
  for (std::size_t i = 0; i < y.shape(0); ++i)
    for (std::size_t o = 0; o < y.shape(1); ++o) y(i, o) += b(o);
  return y;
}

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

// post-norm: x1 = norm1(x + SA(x)), out = norm2(x1 + FF(x1))
// pre-norm:  x1 = x + SA(norm1(x)),  out = x1 + FF(norm2(x1))
EncoderLayerForward encoder_layer_forward(const Matrix& src, std::size_t seq_len,
                                          const EncoderLayerWeights& w, std::size_t n_heads, bool norm_first,
                                          Activation act, const BoolMatrix& mask) {
  const std::size_t rows_total = src.shape(0), E = src.shape(1);
  if (seq_len == 0 || rows_total % seq_len != 0) {
    throw std::invalid_argument(
        fmt::format("encoder_layer_forward: src has {} rows, not a whole number of sequences of {}",
                    rows_total, seq_len));
  }
  require_layer_fits(w, E, "encoder_layer_forward");
  const std::size_t B = rows_total / seq_len;
  EncoderLayerForward f;
  EncoderLayerActivations& a = f.saved;
  a.seq_len = seq_len;
  a.norm_first = norm_first;
  a.activation = act;
  const std::size_t H = n_heads;
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
  a.n_heads = H;
  // multi-head self-attention within each sequence (chapter 05's steps, the projections batched)
  const auto self_attention = [&](const Matrix& x) {
    const std::size_t L = seq_len, d = E / H;
    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    a.attn_input = x;
    // 1. Q | K | V (B·L, 3E) in one product
    a.qkv = affine(x, w.self_attn.in_proj_weight, w.self_attn.in_proj_bias);
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
    return affine(a.merged, w.self_attn.out_proj_weight, w.self_attn.out_proj_bias);
  };
  // FF(x) = linear2(act(linear1(x))), keeping linear1's output and the activation's
  const auto feed_forward = [&](const Matrix& x) {
    a.ff_input = x;
    a.hidden_pre = affine(x, w.linear1_weight, w.linear1_bias);
    a.hidden = activate(a.hidden_pre, act);
    return affine(a.hidden, w.linear2_weight, w.linear2_bias);
  };
  if (norm_first) {
    a.norm1_input = src;
    const Matrix x1 = src + self_attention(layer_norm(src, w.norm1_weight, w.norm1_bias, kNormEps));
    a.norm2_input = x1;
    f.output = x1 + feed_forward(layer_norm(x1, w.norm2_weight, w.norm2_bias, kNormEps));
  } else {
    a.norm1_input = src + self_attention(src);
    const Matrix x1 = layer_norm(a.norm1_input, w.norm1_weight, w.norm1_bias, kNormEps);
    a.norm2_input = x1 + feed_forward(x1);
    f.output = layer_norm(a.norm2_input, w.norm2_weight, w.norm2_bias, kNormEps);
  }
  return f;
}

// the forward's steps undone, the last one first; a residual adds the gradients of its two paths
EncoderLayerGradients encoder_layer_backward(const EncoderLayerActivations& saved,
                                             const EncoderLayerWeights& w, const Matrix& grad_output) {
  const std::size_t E = saved.norm1_input.shape(1), L = saved.seq_len;
  if (grad_output.shape() != saved.norm1_input.shape()) {
    throw std::invalid_argument(fmt::format("encoder_layer_backward: grad_output is {} but the output is {}",
                                            shape_of(grad_output), shape_of(saved.norm1_input)));
  }
  require_layer_fits(w, E, "encoder_layer_backward");
  EncoderLayerGradients g;
  EncoderLayerWeights& gw = g.weights;
  // FF's backward: d(FF output) -> d(FF input), and linear1's and linear2's gradients
  const auto feed_forward_backward = [&](const Matrix& d_out) {
    const LinearGradients l2 = linear_backward(saved.hidden, w.linear2_weight, d_out);
    const Matrix d_hidden_pre = l2.x * activation_derivative(saved.hidden_pre, saved.activation);
    const LinearGradients l1 = linear_backward(saved.ff_input, w.linear1_weight, d_hidden_pre);
    gw.linear2_weight = l2.weight;
    gw.linear2_bias = l2.bias;
    gw.linear1_weight = l1.weight;
    gw.linear1_bias = l1.bias;
    return l1.x;
  };
  // SA's backward: out_proj, each sequence's heads (chapter 13's attention_backward), in_proj
  const auto self_attention_backward = [&](const Matrix& d_out) {
    const std::size_t H = saved.n_heads, d = E / H, B = saved.weights.shape(0);
    const LinearGradients out = linear_backward(saved.merged, w.self_attn.out_proj_weight, d_out);
    gw.self_attn.out_proj_weight = out.weight;
    gw.self_attn.out_proj_bias = out.bias;
    Matrix d_qkv = Matrix::from_shape({B * L, 3 * E});
    Matrix q = Matrix::from_shape({L, d}), k = q, v = q, d_o = q, p = Matrix::from_shape({L, L});
    for (std::size_t b = 0; b < B; ++b) {  // in order: the same sums on every run
      for (std::size_t h = 0; h < H; ++h) {
        const std::size_t q0 = h * d, k0 = E + h * d, v0 = 2 * E + h * d, r0 = b * L;
        for (std::size_t i = 0; i < L; ++i) {
          for (std::size_t c = 0; c < d; ++c) {
            q(i, c) = saved.qkv(r0 + i, q0 + c);
            k(i, c) = saved.qkv(r0 + i, k0 + c);
            v(i, c) = saved.qkv(r0 + i, v0 + c);
            d_o(i, c) = out.x(r0 + i, q0 + c);
          }
          for (std::size_t j = 0; j < L; ++j) p(i, j) = saved.weights(b, h, i, j);
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
    const LinearGradients in = linear_backward(saved.attn_input, w.self_attn.in_proj_weight, d_qkv);
    gw.self_attn.in_proj_weight = in.weight;
    gw.self_attn.in_proj_bias = in.bias;
    return in.x;
  };
  const auto norm_backward = [&](const Matrix& x, const Vector& gamma, const Matrix& d_out, Vector& d_weight,
                                 Vector& d_bias) {
    LayerNormGradients n = layer_norm_backward(x, gamma, kNormEps, d_out);
    d_weight = std::move(n.weight);
    d_bias = std::move(n.bias);
    return n.x;
  };
  if (saved.norm_first) {
    // out = x1 + FF(norm2(x1)):  dx1 = d out + norm2'(FF'(d out))
    const Matrix d_norm2_out = feed_forward_backward(grad_output);
    const Matrix dx1 = grad_output + norm_backward(saved.norm2_input, w.norm2_weight, d_norm2_out,
                                                   gw.norm2_weight, gw.norm2_bias);
    // x1 = x + SA(norm1(x)):  dx = dx1 + norm1'(SA'(dx1))
    const Matrix d_norm1_out = self_attention_backward(dx1);
    g.src =
        dx1 + norm_backward(saved.norm1_input, w.norm1_weight, d_norm1_out, gw.norm1_weight, gw.norm1_bias);
  } else {
    // out = norm2(h2), h2 = x1 + FF(x1):  d h2 = norm2'(d out);  dx1 = d h2 + FF'(d h2)
    const Matrix d_h2 =
        norm_backward(saved.norm2_input, w.norm2_weight, grad_output, gw.norm2_weight, gw.norm2_bias);
    const Matrix dx1 = d_h2 + feed_forward_backward(d_h2);
    // x1 = norm1(h1), h1 = x + SA(x):  d h1 = norm1'(dx1);  dx = d h1 + SA'(d h1)
    const Matrix d_h1 = norm_backward(saved.norm1_input, w.norm1_weight, dx1, gw.norm1_weight, gw.norm1_bias);
    g.src = d_h1 + self_attention_backward(d_h1);
  }
  return g;
}

// the twelve tensors in state_dict order
std::vector<NamedTensor> named_tensors(EncoderLayerWeights& w, const std::string& prefix) {
  std::vector<NamedTensor> t;
  const auto add_matrix = [&](const std::string& name, Matrix& m) {
    t.push_back({prefix + name, {m.shape(0), m.shape(1)}, m.data(), m.size()});
  };
  const auto add_vector = [&](const std::string& name, Vector& v) {
    t.push_back({prefix + name, {v.size()}, v.data(), v.size()});
  };
  add_matrix("self_attn.in_proj_weight", w.self_attn.in_proj_weight);
  add_vector("self_attn.in_proj_bias", w.self_attn.in_proj_bias);
  add_matrix("self_attn.out_proj.weight", w.self_attn.out_proj_weight);
  add_vector("self_attn.out_proj.bias", w.self_attn.out_proj_bias);
  add_matrix("linear1.weight", w.linear1_weight);
  add_vector("linear1.bias", w.linear1_bias);
  add_matrix("linear2.weight", w.linear2_weight);
  add_vector("linear2.bias", w.linear2_bias);
  add_vector("norm1.weight", w.norm1_weight);
  add_vector("norm1.bias", w.norm1_bias);
  add_vector("norm2.weight", w.norm2_weight);
  add_vector("norm2.bias", w.norm2_bias);
  return t;
}

std::vector<double> flat_entries(const NamedTensor& t) {
  return std::vector<double>(t.data, t.data + t.size);
}

std::vector<double> numerical_gradient_in_place(const NamedTensor& t, const std::function<double()>& loss,
                                                double eps) {
  return numerical_gradient_in_place(t.data, t.size, loss, eps);
}

void save_named_tensors(const std::string& dir, const std::vector<NamedTensor>& tensors,
                        const std::string& suffix) {
  for (const NamedTensor& t : tensors) save_npy(dir, t.name + suffix, t.shape, t.data);
}

std::vector<std::string> tensor_names(const std::vector<NamedTensor>& tensors, const std::string& suffix) {
  std::vector<std::string> names;
  for (const NamedTensor& t : tensors) names.push_back(t.name + suffix);
  return names;
}

}  // namespace course

// Chapter 19 — given code (declared in chapters/19_vision_transformer/given.hpp): the CNN the ViT is
// compared with, on chapter 09's conv2d, and the convolution's backward.
#include "01_tensors/given.hpp"  // linear
#include "19_vision_transformer/given.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace course {

// the three sums of the chapter 09 formula, each gradient where its term came from
Conv2dGradients conv2d_backward(const Tensor3& input, const Tensor4& weight, const ConvSpec& spec,
                                const Tensor3& grad_output) {
  const std::size_t c_in = input.shape(0), H = input.shape(1), W = input.shape(2);
  const std::size_t c_out = weight.shape(0), KH = weight.shape(2), KW = weight.shape(3);
  const std::size_t H_out = grad_output.shape(1), W_out = grad_output.shape(2);
  const std::size_t H_expected = (H + 2 * spec.padding - spec.dilation * (KH - 1) - 1) / spec.stride + 1;
  const std::size_t W_expected = (W + 2 * spec.padding - spec.dilation * (KW - 1) - 1) / spec.stride + 1;
  if (weight.shape(1) != c_in || grad_output.shape(0) != c_out || H_out != H_expected ||
      W_out != W_expected) {
    throw std::invalid_argument(fmt::format("conv2d_backward: input {}, weight {}, grad_output {} do not fit",
                                            shape_of(input), shape_of(weight), shape_of(grad_output)));
  }
  Conv2dGradients g{xt::zeros<double>(input.shape()), xt::zeros<double>(weight.shape()),
                    xt::zeros<double>({c_out})};
  const long pad = static_cast<long>(spec.padding), stride = static_cast<long>(spec.stride),
             dilation = static_cast<long>(spec.dilation);
  // The valid outputs of a tap: y_in = y·stride + i·dilation − padding must lie in [0, H), so y runs
  // from y_lo to y_hi (plain loops over raw rows inside: this runs for every image of every step).
  const auto valid = [&](long offset, long size, long outputs, long& lo, long& hi) {
    lo = 0;
    while (lo < outputs && lo * stride + offset < 0) ++lo;
    hi = outputs;
    while (hi > lo && (hi - 1) * stride + offset >= size) --hi;
  };
  for (std::size_t o = 0; o < c_out; ++o) {
    // 1. the bias was added to every output of its channel
    const double* go = &grad_output(o, 0, 0);
    for (std::size_t k = 0; k < H_out * W_out; ++k) g.bias(o) += go[k];
    for (std::size_t c = 0; c < c_in; ++c) {
      const double* in = &input(c, 0, 0);
      double* d_in = &g.input(c, 0, 0);
      for (std::size_t i = 0; i < KH; ++i) {
        long y_lo, y_hi;
        valid(static_cast<long>(i) * dilation - pad, static_cast<long>(H), static_cast<long>(H_out), y_lo,
              y_hi);
        for (std::size_t j = 0; j < KW; ++j) {
          long x_lo, x_hi;
          valid(static_cast<long>(j) * dilation - pad, static_cast<long>(W), static_cast<long>(W_out), x_lo,
                x_hi);
          // 2. weight[o][c][i][j] multiplied in[c][y_in][x_in]: each gets the other times g
          const double w = weight(o, c, i, j);
          double dw = 0.0;
          for (long y = y_lo; y < y_hi; ++y) {
            const long row = y * stride + static_cast<long>(i) * dilation - pad;
            const double* g_row = go + y * static_cast<long>(W_out);
            const double* in_row = in + row * static_cast<long>(W);
            double* d_row = d_in + row * static_cast<long>(W);
            for (long x = x_lo; x < x_hi; ++x) {
              const long col = x * stride + static_cast<long>(j) * dilation - pad;
              dw += g_row[x] * in_row[col];
              d_row[col] += g_row[x] * w;
            }
          }
          g.weight(o, c, i, j) += dw;
        }
      }
    }
  }
  return g;
}

// Conv2d and Linear: uniform ±1/√fan_in, weight then bias, layer by layer, then the head
SmallCnn random_small_cnn(Rng& rng, const CnnConfig& c) {
  if (c.channels == 0 || c.image == 0 || c.widths.empty() || c.classes == 0)
    throw std::invalid_argument("random_small_cnn: sizes must be positive");
  SmallCnn m;
  m.config = c;
  std::size_t c_in = c.channels;
  for (std::size_t width : c.widths) {
    const std::size_t fan_in = c_in * kCnnKernel * kCnnKernel;
    const double a = 1.0 / std::sqrt(static_cast<double>(fan_in));
    const Matrix w = rng.uniform_matrix(width, fan_in, -a, a);
    Tensor4 weight = Tensor4::from_shape({width, c_in, kCnnKernel, kCnnKernel});
    std::copy(w.begin(), w.end(), weight.begin());
    m.conv_weight.push_back(std::move(weight));
    m.conv_bias.push_back(xt::flatten(rng.uniform_matrix(1, width, -a, a)));
    c_in = width;
  }
  const double h = 1.0 / std::sqrt(static_cast<double>(c_in));
  m.head_weight = rng.uniform_matrix(c.classes, c_in, -h, h);
  m.head_bias = xt::flatten(rng.uniform_matrix(1, c.classes, -h, h));
  return m;
}

std::vector<NamedTensor> named_tensors(SmallCnn& m) {
  std::vector<NamedTensor> t;
  for (std::size_t l = 0; l < m.conv_weight.size(); ++l)
    add_weight_and_bias(t, fmt::format("conv.{}", l), m.conv_weight[l], m.conv_bias[l]);
  add_weight_and_bias(t, "head", m.head_weight, m.head_bias);
  return t;
}

// relu(conv) three times, the mean over positions, the head
CnnForward small_cnn_forward(const SmallCnn& model, const Tensor4& images) {
  const CnnConfig& c = model.config;
  const std::size_t B = images.shape(0), layers = model.conv_weight.size();
  if (B == 0 || images.shape(1) != c.channels || images.shape(2) != c.image || images.shape(3) != c.image) {
    throw std::invalid_argument(fmt::format("small_cnn_forward: images {} are not (B, {}, {}, {})",
                                            shape_of(images), c.channels, c.image, c.image));
  }
  CnnForward f;
  f.inputs.assign(layers, {});
  f.pre.assign(layers, {});
  const std::size_t C_last = c.widths.back();
  f.pooled = Matrix::from_shape({B, C_last});
  for (std::size_t b = 0; b < B; ++b) {
    Tensor3 h = xt::view(images, b, xt::all(), xt::all(), xt::all());
    // 1. the convolutions (chapter 09's conv2d), each followed by ReLU
    for (std::size_t l = 0; l < layers; ++l) {
      Tensor3 pre = conv2d(h, model.conv_weight[l], model.conv_bias[l], kCnnConv);
      f.inputs[l].push_back(std::move(h));
      h = xt::maximum(pre, 0.0);
      f.pre[l].push_back(std::move(pre));
    }
    // 2. global average pooling: each channel's mean over its positions
    const double positions = static_cast<double>(h.shape(1) * h.shape(2));
    for (std::size_t o = 0; o < C_last; ++o) {
      double sum = 0.0;
      for (std::size_t y = 0; y < h.shape(1); ++y)
        for (std::size_t x = 0; x < h.shape(2); ++x) sum += h(o, y, x);
      f.pooled(b, o) = sum / positions;
    }
  }
  // 3. the head
  f.logits = linear(f.pooled, model.head_weight, model.head_bias);
  return f;
}

// head, pooling, then each layer's ReLU and conv2d_backward, last first
SmallCnn small_cnn_backward(const SmallCnn& model, const CnnForward& f, const Matrix& grad_logits) {
  const std::size_t B = f.pooled.shape(0), layers = model.conv_weight.size();
  SmallCnn g;
  g.config = model.config;
  // 3. the head
  LinearGradients head = linear_backward(f.pooled, model.head_weight, grad_logits);
  g.head_weight = std::move(head.weight);
  g.head_bias = std::move(head.bias);
  for (std::size_t l = 0; l < layers; ++l) {
    g.conv_weight.push_back(xt::zeros<double>(model.conv_weight[l].shape()));
    g.conv_bias.push_back(xt::zeros<double>(model.conv_bias[l].shape()));
  }
  for (std::size_t b = 0; b < B; ++b) {
    // 2. the pooling spread each channel's gradient evenly over its positions
    const Tensor3& last = f.pre[layers - 1][b];
    const double positions = static_cast<double>(last.shape(1) * last.shape(2));
    Tensor3 dh = Tensor3::from_shape(last.shape());
    for (std::size_t o = 0; o < last.shape(0); ++o)
      for (std::size_t y = 0; y < last.shape(1); ++y)
        for (std::size_t x = 0; x < last.shape(2); ++x) dh(o, y, x) = head.x(b, o) / positions;
    // 1. each layer: ReLU passes the gradient where its input was positive, then the convolution
    for (std::size_t l = layers; l-- > 0;) {
      const Tensor3& pre = f.pre[l][b];
      for (std::size_t k = 0; k < dh.size(); ++k)
        if (pre.data()[k] <= 0.0) dh.data()[k] = 0.0;
      Conv2dGradients cg = conv2d_backward(f.inputs[l][b], model.conv_weight[l], kCnnConv, dh);
      g.conv_weight[l] += cg.weight;
      g.conv_bias[l] += cg.bias;
      dh = std::move(cg.input);
    }
  }
  return g;
}

CnnLossAndGradients small_cnn_loss_and_gradients(const SmallCnn& model, const Tensor4& images,
                                                 const std::vector<std::size_t>& labels) {
  CnnLossAndGradients r;
  r.forward = small_cnn_forward(model, images);
  LossAndGradient lg = softmax_cross_entropy(r.forward.logits, labels);
  r.loss = lg.loss;
  r.grads = small_cnn_backward(model, r.forward, lg.grad);
  return r;
}

}  // namespace course

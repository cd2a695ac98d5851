// Chapter 09 — reference solutions (the contract is in chapters/09_attention_vs_cnn/contract.hpp).
#include "09_attention_vs_cnn/contract.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace course {

namespace {
// The output length of a convolution along one axis, or an invalid_argument if there is none.
std::size_t output_length(std::size_t length, std::size_t kernel, const ConvSpec& spec, const char* who) {
  if (spec.stride == 0 || spec.dilation == 0) {
    throw std::invalid_argument(fmt::format("{}: stride and dilation must be at least 1", who));
  }
  if (kernel == 0) throw std::invalid_argument(fmt::format("{}: the kernel has no taps (size 0)", who));
  const std::size_t span = spec.dilation * (kernel - 1) + 1;  // how far the dilated kernel reaches
  const std::size_t padded = length + 2 * spec.padding;
  if (span > padded) {
    throw std::invalid_argument(
        fmt::format("{}: the kernel spans {} but the padded input has only {}", who, span, padded));
  }
  return (padded - span) / spec.stride + 1;
}

void check_bias(const Vector& bias, std::size_t c_out, const char* who) {
  if (bias.size() != 0 && bias.size() != c_out) {
    throw std::invalid_argument(
        fmt::format("{}: bias has {} entries, expected {} (C_out) or none", who, bias.size(), c_out));
  }
}
}  // namespace

// output (C_out, L_out): every output position is a dot product of the kernel with a window of input
Matrix conv1d(const Matrix& input, const Tensor3& weight, const Vector& bias, const ConvSpec& spec) {
  const std::size_t c_in = input.shape(0), L = input.shape(1);
  const std::size_t c_out = weight.shape(0), K = weight.shape(2);
  if (weight.shape(1) != c_in) {
    throw std::invalid_argument(
        fmt::format("conv1d: weight {} expects {} input channels, the input {} has {}", shape_of(weight),
                    weight.shape(1), shape_of(input), c_in));
  }
  check_bias(bias, c_out, "conv1d");
  const std::size_t L_out = output_length(L, K, spec, "conv1d");
  Matrix out = Matrix::from_shape({c_out, L_out});
  for (std::size_t o = 0; o < c_out; ++o) {
    for (std::size_t t = 0; t < L_out; ++t) {
      double sum = bias.size() ? bias(o) : 0.0;
      for (std::size_t c = 0; c < c_in; ++c) {
        for (std::size_t j = 0; j < K; ++j) {
          // position in the unpadded input; outside [0, L) it is a padding zero
          const long pos =
              static_cast<long>(t * spec.stride + j * spec.dilation) - static_cast<long>(spec.padding);
          if (pos >= 0 && pos < static_cast<long>(L)) sum += weight(o, c, j) * input(c, pos);
        }
      }
      out(o, t) = sum;
    }
  }
  return out;
}

// output (C_out, H_out, W_out): the same, with a 2-D window
Tensor3 conv2d(const Tensor3& input, const Tensor4& weight, const Vector& bias, const ConvSpec& spec) {
  const std::size_t c_in = input.shape(0), H = input.shape(1), W = input.shape(2);
  const std::size_t c_out = weight.shape(0), KH = weight.shape(2), KW = weight.shape(3);
  if (weight.shape(1) != c_in) {
    throw std::invalid_argument(
        fmt::format("conv2d: weight {} expects {} input channels, the input {} has {}", shape_of(weight),
                    weight.shape(1), shape_of(input), c_in));
  }
  check_bias(bias, c_out, "conv2d");
  const std::size_t H_out = output_length(H, KH, spec, "conv2d"),
                    W_out = output_length(W, KW, spec, "conv2d");
  Tensor3 out = Tensor3::from_shape({c_out, H_out, W_out});
  const long pad = static_cast<long>(spec.padding);
  for (std::size_t o = 0; o < c_out; ++o) {
    for (std::size_t y = 0; y < H_out; ++y) {
      for (std::size_t x = 0; x < W_out; ++x) {
        double sum = bias.size() ? bias(o) : 0.0;
        for (std::size_t c = 0; c < c_in; ++c) {
          for (std::size_t i = 0; i < KH; ++i) {
            const long row = static_cast<long>(y * spec.stride + i * spec.dilation) - pad;
            if (row < 0 || row >= static_cast<long>(H)) continue;
            for (std::size_t j = 0; j < KW; ++j) {
              const long col = static_cast<long>(x * spec.stride + j * spec.dilation) - pad;
              if (col >= 0 && col < static_cast<long>(W)) sum += weight(o, c, i, j) * input(c, row, col);
            }
          }
        }
        out(o, y, x) = sum;
      }
    }
  }
  return out;
}

// K*K heads, head (i, j) attends around the shift (i - K/2, j - K/2) with sharpness alpha
Tensor3 conv_as_attention(const Tensor3& image, const Tensor4& weight, const Vector& bias, double alpha) {
  const std::size_t c_in = image.shape(0), H = image.shape(1), W = image.shape(2);
  const std::size_t c_out = weight.shape(0), K = weight.shape(2);
  if (weight.shape(1) != c_in || weight.shape(3) != K || K % 2 == 0) {
    throw std::invalid_argument(fmt::format(
        "conv_as_attention: weight {} must be (C_out, {}, K, K) with K odd", shape_of(weight), c_in));
  }
  check_bias(bias, c_out, "conv_as_attention");
  if (!(alpha > 0.0)) throw std::invalid_argument("conv_as_attention: alpha must be positive");

  // 1. the zero-padded image, (C_in, H + 2r, W + 2r) with r = K/2: its pixels are the keys
  const std::size_t r = K / 2, Hp = H + 2 * r, Wp = W + 2 * r;
  Tensor3 padded = xt::zeros<double>({c_in, Hp, Wp});
  for (std::size_t c = 0; c < c_in; ++c)
    for (std::size_t y = 0; y < H; ++y)
      for (std::size_t x = 0; x < W; ++x) padded(c, y + r, x + r) = image(c, y, x);

  Tensor3 out = Tensor3::from_shape({c_out, H, W});
  std::vector<double> score(Hp * Wp), mixed(c_in);
  for (std::size_t y = 0; y < H; ++y) {
    for (std::size_t x = 0; x < W; ++x) {
      // the query pixel, in padded coordinates
      const double qy = static_cast<double>(y + r), qx = static_cast<double>(x + r);
      for (std::size_t o = 0; o < c_out; ++o) out(o, y, x) = bias.size() ? bias(o) : 0.0;
      for (std::size_t i = 0; i < K; ++i) {
        for (std::size_t j = 0; j < K; ++j) {
          // 2. head (i, j): scores -alpha |k - q - Delta|^2 over every key pixel k, then softmax
          const double dy = static_cast<double>(i) - static_cast<double>(r);
          const double dx = static_cast<double>(j) - static_cast<double>(r);
          double mx = -INFINITY;
          for (std::size_t ky = 0; ky < Hp; ++ky) {
            for (std::size_t kx = 0; kx < Wp; ++kx) {
              const double ey = ky - qy - dy, ex = kx - qx - dx;
              score[ky * Wp + kx] = -alpha * (ey * ey + ex * ex);
              mx = std::max(mx, score[ky * Wp + kx]);
            }
          }
          double sum = 0.0;
          for (double& s : score) {
            s = std::exp(s - mx);
            sum += s;
          }
          // 3. the head's mix of key pixels (C_in), then its value projection weight[:, :, i, j]
          std::fill(mixed.begin(), mixed.end(), 0.0);
          for (std::size_t k = 0; k < Hp * Wp; ++k) {
            const double a = score[k] / sum;
            for (std::size_t c = 0; c < c_in; ++c) mixed[c] += a * padded(c, k / Wp, k % Wp);
          }
          for (std::size_t o = 0; o < c_out; ++o)
            for (std::size_t c = 0; c < c_in; ++c) out(o, y, x) += weight(o, c, i, j) * mixed[c];
        }
      }
    }
  }
  return out;
}

}  // namespace course

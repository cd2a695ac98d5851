// Chapter 18 — reference solution (the contract is in chapters/18_pretrain_finetune/contract.hpp).
#include "18_pretrain_finetune/contract.hpp"
#include "linalg.hpp"  // product, product_nt, product_tn

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace course {

namespace {
// The checks the three functions share: W (out, in) is the base weight (or G, its gradient), A (r, in),
// B (out, r), r >= 1, α > 0. Returns s = α / r.
double lora_scale(const char* fn, const char* w_name, const Matrix& W, const Matrix& A, const Matrix& B,
                  double alpha) {
  const std::size_t r = A.shape(0);
  if (r == 0)
    throw std::invalid_argument(fmt::format("{}: the rank r is 0 (A (r, in) is {})", fn, shape_of(A)));
  if (!(alpha > 0.0) || !std::isfinite(alpha))
    throw std::invalid_argument(fmt::format("{}: alpha must be above 0, not {}", fn, alpha));
  if (A.shape(1) != W.shape(1))
    throw std::invalid_argument(
        fmt::format("{}: A (r, in) is {} but {} (out, in) is {}", fn, shape_of(A), w_name, shape_of(W)));
  if (B.shape(0) != W.shape(0))
    throw std::invalid_argument(
        fmt::format("{}: B (out, r) is {} but {} (out, in) is {}", fn, shape_of(B), w_name, shape_of(W)));
  if (B.shape(1) != r)
    throw std::invalid_argument(
        fmt::format("{}: B (out, r) is {} but A (r, in) is {}", fn, shape_of(B), shape_of(A)));
  return alpha / static_cast<double>(r);
}
}  // namespace

// y = x Wᵀ + s (x Aᵀ) Bᵀ
Matrix lora_forward(const Matrix& x, const Matrix& W, const Matrix& A, const Matrix& B, double alpha) {
  const double s = lora_scale("lora_forward", "W", W, A, B, alpha);
  if (x.shape(1) != W.shape(1))
    throw std::invalid_argument(
        fmt::format("lora_forward: x (T, in) is {} but W (out, in) is {}", shape_of(x), shape_of(W)));
  const Matrix xa = product_nt(x, A);  // (T, r)
  Matrix y = product_nt(x, W);         // (T, out)
  y += s * product_nt(xa, B);
  return y;
}

// dA = s Bᵀ G,  dB = s G Aᵀ
LoraGradients lora_backward(const Matrix& G, const Matrix& A, const Matrix& B, double alpha) {
  const double s = lora_scale("lora_backward", "G", G, A, B, alpha);
  LoraGradients g;
  g.dA = s * product_tn(B, G);  // (r, out) (out, in) -> (r, in)
  g.dB = s * product_nt(G, A);  // (out, in) (in, r) -> (out, r)
  return g;
}

// W + s B A
Matrix merge_lora(const Matrix& W, const Matrix& A, const Matrix& B, double alpha) {
  const double s = lora_scale("merge_lora", "W", W, A, B, alpha);
  Matrix merged = W + s * product(B, A);
  return merged;
}

}  // namespace course

// Exercise 18 — Pretrain, then fine-tune: the LoRA layer (Hu et al. 2021).
//
// Fill in the functions below, then run   ./course check 18
// The contract is in chapters/18_pretrain_finetune/contract.hpp; stuck? ./course hint 18
#include "18_pretrain_finetune/contract.hpp"

namespace course {

// y = x Wᵀ + s · (x Aᵀ) Bᵀ,   s = α / r
Matrix lora_forward(const Matrix& x, const Matrix& W, const Matrix& A, const Matrix& B, double alpha) {
  // TODO: refuse r = 0, α <= 0 and shapes that do not fit (std::invalid_argument naming both shapes)
  // TODO: the base layer x Wᵀ, plus the adapter through the thin (T, r) matrix x Aᵀ — never B A
  throw not_implemented("exercise 18: lora_forward");
}

// dA = s · Bᵀ G,   dB = s · G Aᵀ,   G = dL/dW_eff
LoraGradients lora_backward(const Matrix& G, const Matrix& A, const Matrix& B, double alpha) {
  // TODO: the same checks, with G in W's place
  // TODO: the two products above, each scaled by s
  throw not_implemented("exercise 18: lora_backward");
}

// W_eff = W + s · B A
Matrix merge_lora(const Matrix& W, const Matrix& A, const Matrix& B, double alpha) {
  // TODO: the same checks, then the formula
  throw not_implemented("exercise 18: merge_lora");
}

}  // namespace course

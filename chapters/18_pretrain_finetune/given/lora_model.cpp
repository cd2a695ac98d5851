// Chapter 18 — given code (declared in chapters/18_pretrain_finetune/given.hpp): LoRA adapters on chapter
// 16's TinyGPT — their start, their merge into the model, their gradients and their optimizer.
#include "18_pretrain_finetune/given.hpp"

#include <cmath>
#include <string>

namespace course {

LoraAdapters new_adapters(Rng& rng, const TinyGpt& base, std::size_t rank, double alpha) {
  const std::size_t E = base.config.d_model;
  const double bound = 1.0 / std::sqrt(static_cast<double>(E));
  LoraAdapters a;
  a.alpha = alpha;
  for (std::size_t l = 0; l < base.blocks.size(); ++l) {
    a.in_A.push_back(rng.uniform_matrix(rank, E, -bound, bound));
    a.in_B.push_back(xt::zeros<double>({3 * E, rank}));
    a.out_A.push_back(rng.uniform_matrix(rank, E, -bound, bound));
    a.out_B.push_back(xt::zeros<double>({E, rank}));
  }
  return a;
}

std::vector<NamedTensor> named_tensors(LoraAdapters& a) {
  std::vector<NamedTensor> out;
  for (std::size_t l = 0; l < a.in_A.size(); ++l) {
    const std::string block = "blocks." + std::to_string(l) + ".self_attn.";
    out.push_back(named_tensor(block + "in_proj_lora_A", a.in_A[l]));
    out.push_back(named_tensor(block + "in_proj_lora_B", a.in_B[l]));
    out.push_back(named_tensor(block + "out_proj.lora_A", a.out_A[l]));
    out.push_back(named_tensor(block + "out_proj.lora_B", a.out_B[l]));
  }
  return out;
}

TinyGpt merge_adapters(const TinyGpt& base, const LoraAdapters& a) {
  TinyGpt merged = base;
  for (std::size_t l = 0; l < base.blocks.size(); ++l) {
    MultiHeadWeights& w = merged.blocks[l].self_attn;
    w.in_proj_weight = merge_lora(base.blocks[l].self_attn.in_proj_weight, a.in_A[l], a.in_B[l], a.alpha);
    w.out_proj_weight = merge_lora(base.blocks[l].self_attn.out_proj_weight, a.out_A[l], a.out_B[l], a.alpha);
  }
  return merged;
}

LoraAdapters adapter_gradients(const TinyGpt& merged_grads, const LoraAdapters& a) {
  LoraAdapters g;
  g.alpha = a.alpha;
  for (std::size_t l = 0; l < a.in_A.size(); ++l) {
    const MultiHeadWeights& w = merged_grads.blocks[l].self_attn;
    LoraGradients in = lora_backward(w.in_proj_weight, a.in_A[l], a.in_B[l], a.alpha);
    LoraGradients out = lora_backward(w.out_proj_weight, a.out_A[l], a.out_B[l], a.alpha);
    g.in_A.push_back(std::move(in.dA));
    g.in_B.push_back(std::move(in.dB));
    g.out_A.push_back(std::move(out.dA));
    g.out_B.push_back(std::move(out.dB));
  }
  return g;
}

LoraLossAndGradients lora_loss_and_gradients(const TinyGpt& base, const LoraAdapters& adapters,
                                             const std::vector<std::size_t>& ids,
                                             const std::vector<std::size_t>& targets, std::size_t seq_len) {
  LoraLossAndGradients r;
  r.merged = tiny_gpt_loss_and_gradients(merge_adapters(base, adapters), ids, targets, seq_len);
  r.grads = adapter_gradients(r.merged.grads, adapters);
  return r;
}

LoraTrainer::LoraTrainer(const TrainingOptions& options) : optimizer_(options) {}

// the adapters' gradients (lora_loss_and_gradients); the optimizer's step on the adapters only
double LoraTrainer::step(const TinyGpt& base, LoraAdapters& adapters, const Batch& batch, std::size_t T) {
  LoraLossAndGradients r = lora_loss_and_gradients(base, adapters, batch.inputs, batch.targets, T);
  optimizer_.step(named_tensors(adapters), named_tensors(r.grads));
  return r.merged.loss;
}

}  // namespace course

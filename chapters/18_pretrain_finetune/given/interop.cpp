// Chapter 18 — given code (declared in chapters/18_pretrain_finetune/given.hpp): the PyTorch files of
// --load DIR — chapter 16's TinyGPT, targets.npy and the LoRA adapters of every block — read and checked
// (the adapters' merge and gradients are lora_model.cpp's).
#include "18_pretrain_finetune/given.hpp"
#include "cli.hpp"  // usage_error, require_within_limits
#include "npy.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <set>

namespace course {

namespace {
// The adapters' keys under blocks.N.self_attn., in named_tensors' order (in_A, in_B, out_A, out_B),
// with their shapes.
constexpr const char* kAdapterKeys[4] = {"in_proj_lora_A", "in_proj_lora_B", "out_proj.lora_A",
                                         "out_proj.lora_B"};
constexpr const char* kAdapterDims[4] = {"(r, E)", "(3E, r)", "(r, E)", "(E, r)"};

std::string adapter_key(std::size_t block, std::size_t k) {
  return fmt::format("blocks.{}.self_attn.{}", block, kAdapterKeys[k]);
}

// An adapter file for a block the model does not have (blocks.1.self_attn.in_proj_lora_A.npy beside a
// one-block model): refused before the model is read, naming the file. A directory that cannot be
// listed is left to the loaders, which name it.
void require_adapted_blocks_exist(const std::string& dir) {
  std::set<std::string> blocks;  // "blocks.N" of every adapter file, sorted: the same message every run
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    for (const char* key : kAdapterKeys) {
      const std::string suffix = fmt::format(".self_attn.{}.npy", key);
      if (file.size() > suffix.size() && file.compare(0, 7, "blocks.") == 0 &&
          file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0)
        blocks.insert(file.substr(0, file.size() - suffix.size()));
    }
  }
  for (const std::string& block : blocks) {
    if (!npy_exists(dir, block + ".self_attn.in_proj_weight"))
      throw usage_error(
          fmt::format("{}.self_attn.* holds LoRA adapters for a block the model does not have "
                      "(there is no {}.self_attn.in_proj_weight.npy)",
                      block, block));
  }
}

// Block i's four adapters, appended to a: each present, of rank r (rank 0: the first adapter read sets
// it) and of its shape for width E.
void load_block_lora(const std::string& dir, std::size_t i, std::size_t E, std::size_t& r, LoraAdapters& a) {
  for (std::size_t k = 0; k < 4; ++k) {
    if (!npy_exists(dir, adapter_key(i, k))) {
      throw usage_error(
          fmt::format("{}.npy is missing: every block has four LoRA adapters, "
                      "self_attn.in_proj_lora_A, in_proj_lora_B, out_proj.lora_A and out_proj.lora_B",
                      adapter_key(i, k)));
    }
  }
  std::vector<Matrix>* lists[4] = {&a.in_A, &a.in_B, &a.out_A, &a.out_B};  // kAdapterKeys' order
  const std::size_t rows[4] = {0, 3 * E, 0, E};                            // B's rows; A's rows are r
  for (std::size_t k = 0; k < 4; ++k) {
    const std::string key = adapter_key(i, k);
    Matrix m = load_matrix(dir, key, kAdapterDims[k]);
    const bool is_A = k % 2 == 0;
    const std::size_t rank = is_A ? m.shape(0) : m.shape(1);  // 0 never: the loader refuses empty arrays
    if (r == 0) {
      r = rank;
      require_shape(key + ".npy", m, {r, E}, "(r, E) with the E of tok.weight");
      if (r > E) {
        throw usage_error(
            fmt::format("{}.npy has rank r = {}, above E = {}: an adapter of rank r is "
                        "meant to be thinner than the weight (1 <= r <= E)",
                        key, r, E));
      }
    }
    if (rank != r) {
      throw usage_error(
          fmt::format("{}.npy {} has rank {} ({}), but {}.npy has r = {}: every adapter has "
                      "the same rank",
                      key, shape_of(m), rank, is_A ? "its rows" : "its columns", adapter_key(0, 0), r));
    }
    if (is_A)
      require_shape(key + ".npy", m, {r, E}, "(r, E) with the E of tok.weight");
    else
      require_shape(key + ".npy", m, {rows[k], r}, k == 1 ? "(3E, r)" : "(E, r)");
    lists[k]->push_back(std::move(m));
  }
}
}  // namespace

LoraFiles load_lora_files(const std::string& dir, std::size_t n_heads, double alpha) {
  require_adapted_blocks_exist(dir);
  GptPrompt p = load_gpt_prompt(dir, n_heads);
  LoraFiles f;
  f.model = std::move(p.model);
  f.ids = std::move(p.ids);
  const TinyGptConfig& c = f.model.config;
  const std::size_t T = f.ids.size();
  f.targets = load_token_ids(dir, "targets", c.vocab);
  if (f.targets.size() != T)
    throw usage_error(fmt::format("targets.npy has {} entries but idx.npy has {}", f.targets.size(), T));
  std::size_t r = 0;
  for (std::size_t i = 0; i < c.n_layers; ++i) load_block_lora(dir, i, c.d_model, r, f.adapters);
  f.adapters.alpha = alpha > 0 ? alpha : static_cast<double>(r);
  std::vector<std::string> outputs = tensor_names(named_tensors(f.adapters), ".grad");
  outputs.insert(outputs.end(), {"logits", "loss"});
  require_no_unread_files(dir, outputs, "a TinyGPT's files with LoRA adapters and targets.npy");
  // chapter 16's training step on one sequence (the merge and lora_backward are a few products of r)
  require_within_limits(
      {8.0 * T * (60.0 * c.d_ff * c.n_layers + 3.0 * c.vocab), training_step_multiply_adds(c, 1, T)},
      "the --load files");
  return f;
}

}  // namespace course

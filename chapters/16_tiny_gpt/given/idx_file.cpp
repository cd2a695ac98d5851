// Chapter 16 — given code (declared in chapters/16_tiny_gpt/given.hpp).
#include "16_tiny_gpt/given.hpp"

#include "tensor.hpp"

#include <fmt/format.h>

namespace course {

std::vector<std::size_t> load_idx(const std::string& dir, const TinyGptConfig& config) {
  const std::vector<std::size_t> ids = load_token_ids(dir, "idx", config.vocab);
  const std::size_t T = ids.size();
  if (T == 0) throw usage_error("idx.npy is empty");
  if (T > config.n_ctx) {
    throw usage_error(fmt::format(
        "idx.npy has {} tokens, longer than the context n_ctx = {} of pos.weight.npy", T, config.n_ctx));
  }
  return ids;
}

GptPrompt load_gpt_prompt(const std::string& dir, std::size_t n_heads) {
  GptPrompt p;
  p.model = load_tiny_gpt(dir, n_heads);
  p.ids = load_idx(dir, p.model.config);
  return p;
}

}  // namespace course

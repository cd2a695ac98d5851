// Chapter 14 — given code (declared in chapters/14_training/given.hpp): the AdamW optimizer, on the
// exercise's adamw_step.
#include "14_training/given.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace course {

namespace detail {
void require_param_and_grad(const std::vector<std::size_t>& param, const std::vector<std::size_t>& grad) {
  if (param != grad) {
    throw std::invalid_argument(
        fmt::format("adamw_step: param is {} but grad is {}", fmt::join(param, ", "), fmt::join(grad, ", ")));
  }
}
}  // namespace detail

AdamW::AdamW(const AdamWOptions& options) : options_(options) {}

// t ← t + 1; each parameter with its own moments
void AdamW::step(const std::vector<NamedTensor>& params, const std::vector<NamedTensor>& grads) {
  if (params.size() != grads.size()) {
    throw std::invalid_argument(
        fmt::format("AdamW::step: {} parameters but {} gradients", params.size(), grads.size()));
  }
  if (t_ == 0) {  // the first step: zero moments, one pair per parameter
    for (const NamedTensor& p : params) {
      names_.push_back(p.name);
      moments_.push_back({std::vector<double>(p.size, 0.0), std::vector<double>(p.size, 0.0)});
    }
  }
  if (params.size() != names_.size()) {
    throw std::invalid_argument(
        fmt::format("AdamW::step: {} parameters, but the first step had {}", params.size(), names_.size()));
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i].name != names_[i] || grads[i].name != names_[i] || params[i].size != grads[i].size) {
      throw std::invalid_argument(
          fmt::format("AdamW::step: parameter {} is {} ({} entries) with gradient {} ({}); "
                      "the first step had {}",
                      i, params[i].name, params[i].size, grads[i].name, grads[i].size, names_[i]));
    }
  }
  ++t_;
  for (std::size_t i = 0; i < params.size(); ++i)
    adamw_step(params[i].data, grads[i].data, params[i].size, moments_[i], t_, options_);
}

}  // namespace course

// Chapter 05 — given code (declared in chapters/05_multi_head_attention/given.hpp).
#include "05_multi_head_attention/given.hpp"

namespace course {

std::vector<NamedResult> multi_head_weight_files(const MultiHeadWeights& w, const std::string& prefix) {
  return {named_result(prefix + "in_proj_weight", w.in_proj_weight),
          named_result(prefix + "in_proj_bias", w.in_proj_bias),
          named_result(prefix + "out_proj.weight", w.out_proj_weight),
          named_result(prefix + "out_proj.bias", w.out_proj_bias)};
}

}  // namespace course

// The results of a --load run, each under the name PyTorch gives it, checked, printed and saved in one
// place. A chapter's --load path reads as four steps:
//   load the files -> compute into named tensors -> report_results(...) -> self-checks
// and --save DIR without --load writes the program's own example through the same report_results.
#pragma once
#include "tensor.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace course {

// One result: a float64 tensor of any rank (C order) under its file name, and how it is printed.
struct NamedResult {
  std::string name;                // saved as NAME.npy, and named so if it overflowed
  std::vector<std::size_t> shape;  // () for a scalar
  const double* data = nullptr;    // the tensor's entries; it must outlive report_results
  std::function<void()> show;      // prints it; empty: saved, not printed
};

// A tensor of any rank, printed by `show` (or not printed).
template <class T>
NamedResult named_result(const std::string& name, const T& tensor, std::function<void()> show = {}) {
  return {name, std::vector<std::size_t>(tensor.shape().begin(), tensor.shape().end()), tensor.data(),
          std::move(show)};
}

// A matrix printed by print_matrix(label, m, rows, cols, decimals) (print.hpp).
NamedResult shown_matrix(const std::string& name, const Matrix& m, const std::string& label,
                         const Labels& rows = {}, const Labels& cols = {}, int decimals = 4);

// A matrix printed by print_result(label, m): whole up to 8 x 8, else its shape and largest |entry|.
// The label is the name if not given.
NamedResult shown_result(const std::string& name, const Matrix& m, const std::string& label = "");

// A number, e.g. a loss, saved as a 0-d array (what np.save(np.float64(x)) writes), printed by `show`.
NamedResult scalar_result(const std::string& name, const double& value, std::function<void()> show = {});

// Tensors that carry their own names (e.g. chapter 14's NamedTensor: name, shape, data), appended to
// `results` as NAME + suffix (e.g. ".grad"), not printed.
template <class Named>
void append_named(std::vector<NamedResult>& results, const std::vector<Named>& tensors,
                  const std::string& suffix = "") {
  for (const Named& t : tensors) results.push_back({t.name + suffix, t.shape, t.data, {}});
}

// 1. Checks every result: one that holds inf or NaN (the computation overflowed) is bad input, a
//    one-line error and exit code 2 (require_finite_result, npy.hpp), never a printed NaN.
// 2. Prints the shown ones, in order.
// 3. With a save_dir (--save DIR), writes each as SAVE_DIR/NAME.npy and says so in one line,
//      wrote output.npy (3, 2), weights.npy (3, 3) to out
//    or, when that is longer than 100 characters, "wrote N .npy files to out:" and the list, wrapped.
void report_results(const std::vector<NamedResult>& results, const std::string& save_dir);

}  // namespace course

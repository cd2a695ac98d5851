#include "results.hpp"

#include "npy.hpp"
#include "print.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace course {

NamedResult shown_matrix(const std::string& name, const Matrix& m, const std::string& label,
                         const Labels& rows, const Labels& cols, int decimals) {
  return named_result(name, m,
                      [&m, label, rows, cols, decimals] { print_matrix(label, m, rows, cols, decimals); });
}

NamedResult shown_result(const std::string& name, const Matrix& m, const std::string& label) {
  return named_result(name, m, [&m, label = label.empty() ? name : label] { print_result(label, m); });
}

NamedResult scalar_result(const std::string& name, const double& value, std::function<void()> show) {
  return {name, {}, &value, std::move(show)};
}

namespace {
// The longest line the list of written files takes before it wraps.
constexpr std::size_t kLineWidth = 100;

std::size_t count_of(const NamedResult& r) {
  std::size_t count = 1;
  for (std::size_t n : r.shape) count *= n;
  return count;
}

// "(3, 2)", "(4,)" or "()", as shape_of prints a tensor.
std::string shape_text(const std::vector<std::size_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}
}  // namespace

void report_results(const std::vector<NamedResult>& results, const std::string& save_dir) {
  for (const NamedResult& r : results) require_finite_result(r.name, r.data, count_of(r));
  for (const NamedResult& r : results)
    if (r.show) r.show();
  if (save_dir.empty()) return;
  std::vector<std::string> written;
  for (const NamedResult& r : results) {
    save_npy(save_dir, r.name, r.shape, r.data);
    written.push_back(fmt::format("{}.npy {}", r.name, shape_text(r.shape)));
  }
  const std::string line = fmt::format("wrote {} to {}", fmt::join(written, ", "), save_dir);
  if (line.size() <= kLineWidth) {
    fmt::print("{}\n", line);
    return;
  }
  // many files (a model's state_dict): a line that says how many, then the files, wrapped
  fmt::print("wrote {} .npy files to {}:\n", written.size(), save_dir);
  std::string wrapped = " ";
  for (std::size_t i = 0; i < written.size(); ++i) {
    const std::string item = " " + written[i] + (i + 1 < written.size() ? "," : "");
    if (wrapped.size() > 1 && wrapped.size() + item.size() > kLineWidth) {
      fmt::print("{}\n", wrapped);
      wrapped = " ";
    }
    wrapped += item;
  }
  fmt::print("{}\n", wrapped);
}

}  // namespace course

#include "pytorch.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <set>

namespace course {

// query (L, E), key (S, E), value (S, Ev)
AttentionInputs load_attention_inputs(const std::string& dir) {
  AttentionInputs in{load_matrix(dir, "query", "(L, E)"), load_matrix(dir, "key", "(S, E)"),
                     load_matrix(dir, "value", "(S, Ev)")};
  require_shape("key.npy", in.key, {in.key.shape(0), in.query.shape(1)}, "(S, E) with the E of query.npy");
  require_shape("value.npy", in.value, {in.key.shape(0), in.value.shape(1)}, "(S, Ev) with the S of key.npy");
  return in;
}

std::size_t count_numbered_layers(const std::string& dir, const std::string& prefix) {
  std::set<std::size_t> numbers;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() < 4 || file.compare(file.size() - 4, 4, ".npy") != 0) continue;
    if (file.compare(0, prefix.size(), prefix) != 0) continue;
    // the digits after the prefix, then a dot; anything else is left to require_no_unread_files
    std::size_t i = prefix.size(), n = 0;
    while (i < file.size() && i < prefix.size() + 6 && file[i] >= '0' && file[i] <= '9')
      n = 10 * n + (file[i++] - '0');
    if (i > prefix.size() && i < file.size() && file[i] == '.') numbers.insert(n);
  }
  if (ec)
    throw usage_error(fmt::format("--load {}: cannot list the directory ({})", shorten(dir), ec.message()));
  std::size_t expected = 0;
  for (const std::size_t n : numbers) {
    if (n != expected) {
      throw usage_error(
          fmt::format("{}{}.*.npy: there is no {}{}.*.npy; the layers must be numbered 0, 1, 2, "
                      "... without a gap",
                      prefix, n, prefix, expected));
    }
    ++expected;
  }
  return numbers.size();
}

}  // namespace course

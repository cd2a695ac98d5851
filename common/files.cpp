#include "files.hpp"

#include "cli.hpp"  // usage_error, format_bytes

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace course {

namespace fs = std::filesystem;

namespace {

// What is at a path that is not a regular file: "a directory", "a FIFO (named pipe)", ...
std::string what_is(fs::file_type type) {
  switch (type) {
    case fs::file_type::directory:
      return "a directory";
    case fs::file_type::fifo:
      return "a FIFO (named pipe)";
    case fs::file_type::character:
      return "a character device";
    case fs::file_type::block:
      return "a block device";
    case fs::file_type::socket:
      return "a socket";
    default:
      return "something other than a regular file";
  }
}

// Step 1: the path must be a regular file (after following symlinks), or we say what is there.
void require_regular_file(const std::string& path, const std::string& name, const std::string& missing) {
  std::error_code ec;
  const fs::file_type type = fs::status(path, ec).type();  // a symlink loop sets ec (ELOOP)
  if (type == fs::file_type::regular) return;
  if (type == fs::file_type::not_found) {
    throw usage_error(fmt::format("{}: cannot open {} (No such file or directory){}", name, shorten(path),
                                  missing.empty() ? "" : ": " + missing));
  }
  if (ec) throw usage_error(fmt::format("{}: cannot open {} ({})", name, shorten(path), ec.message()));
  throw usage_error(fmt::format("{}: {} is {}, not a regular file", name, shorten(path), what_is(type)));
}

}  // namespace

CheckedFile open_checked(const std::string& path, const std::string& name, std::uintmax_t max_bytes,
                         const std::string& missing) {
  // 1. a regular file
  require_regular_file(path, name, missing);
  // 2. not too large
  CheckedFile f;
  std::error_code ec;
  f.bytes = fs::file_size(path, ec);
  if (ec) throw usage_error(fmt::format("{}: cannot read {} ({})", name, shorten(path), ec.message()));
  if (f.bytes > max_bytes) {
    throw usage_error(fmt::format("{}: {} has {}, more than the limit of {} for this file", name,
                                  shorten(path), format_bytes(static_cast<double>(f.bytes)),
                                  format_bytes(static_cast<double>(max_bytes))));
  }
  // 3. readable
  f.in.open(path, std::ios::binary);
  if (!f.in) {
    throw usage_error(fmt::format("{}: cannot open {} ({})", name, shorten(path), std::strerror(errno)));
  }
  return f;
}

std::ofstream create_checked(const std::string& path) {
  std::error_code ec;
  const fs::file_type type = fs::status(path, ec).type();
  if (type != fs::file_type::not_found && type != fs::file_type::regular) {
    throw usage_error(fmt::format("cannot write {}: {} is there{}", shorten(path),
                                  ec ? "a broken path" : what_is(type), ec ? " (" + ec.message() + ")" : ""));
  }
  std::ofstream out(path, std::ios::binary);
  if (!out) throw usage_error(fmt::format("cannot write {} ({})", shorten(path), std::strerror(errno)));
  return out;
}

std::string read_text_file(const std::string& path, const std::string& name, std::uintmax_t max_bytes,
                           const std::string& missing) {
  CheckedFile f = open_checked(path, name, max_bytes, missing);
  // read in chunks and stop past max_bytes: a file in /proc says it has 0 bytes and may hold more
  std::string text;
  std::vector<char> chunk(1 << 16);
  while (f.in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || f.in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(f.in.gcount()));
    if (text.size() > max_bytes) {
      throw usage_error(fmt::format("{}: {} holds more than the limit of {} for this file", name,
                                    shorten(path), format_bytes(static_cast<double>(max_bytes))));
    }
  }
  if (f.in.bad()) throw usage_error(fmt::format("{}: cannot read {}", name, shorten(path)));
  return text;
}

}  // namespace course

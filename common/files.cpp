#include "files.hpp"

#include "cli.hpp"  // usage_error, format_bytes

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace course {

namespace fs = std::filesystem;

namespace {

// Step 1: the path must be a regular file (after following symlinks), or we say what is there.
void require_regular_file(const std::string& path, const std::string& name, const std::string& missing) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);  // a symlink loop sets ec (ELOOP)
  std::string what;
  switch (st.type()) {
    case fs::file_type::regular:
      return;
    case fs::file_type::directory:
      what = "is a directory";
      break;
    case fs::file_type::fifo:
      what = "is a FIFO (named pipe)";
      break;
    case fs::file_type::character:
      what = "is a character device";
      break;
    case fs::file_type::block:
      what = "is a block device";
      break;
    case fs::file_type::socket:
      what = "is a socket";
      break;
    case fs::file_type::not_found:
      throw usage_error(fmt::format("{}: cannot open {} (No such file or directory){}", name, shorten(path),
                                    missing.empty() ? "" : ": " + missing));
    default:
      if (ec) throw usage_error(fmt::format("{}: cannot open {} ({})", name, shorten(path), ec.message()));
      what = "is not a regular file";
  }
  throw usage_error(fmt::format("{}: {} {}, not a regular file", name, shorten(path), what));
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

std::string read_text_file(const std::string& path, const std::string& name, std::uintmax_t max_bytes,
                           const std::string& missing) {
  CheckedFile f = open_checked(path, name, max_bytes, missing);
  std::ostringstream text;
  text << f.in.rdbuf();
  if (f.in.bad()) throw usage_error(fmt::format("{}: cannot read {}", name, shorten(path)));
  return text.str();
}

}  // namespace course

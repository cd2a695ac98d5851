// Reading a file the user named: the one checked opener every loader calls (the .npy loader of
// npy.hpp, chapter 16's poems, and any text or data file a later chapter reads).
//
// A path on the command line or in a --load directory can be anything: a directory, a FIFO (opening
// it blocks until a writer comes), /dev/zero (endless), a symlink loop, a file of many gigabytes. So
// before a byte is read, open_checked makes sure, in this order, that
//   1. the path is a regular file (after following symlinks), checked before it is opened, so a FIFO
//      cannot block the program and a device cannot be read forever;
//   2. its size is at most max_bytes (the error says both numbers), so nothing huge is read;
//   3. it opens for reading (the error says why not, e.g. "Permission denied").
// Every problem is a usage_error naming the file (one line, exit 2). A future chapter that reads a
// file of its own calls open_checked or read_text_file, never std::ifstream on a user's path.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>

namespace course {

// A checked file, open for binary reading, and its size in bytes (at most the max_bytes asked for).
struct CheckedFile {
  std::ifstream in;
  std::uintmax_t bytes = 0;
};

// Steps 1–3 above for PATH. `name` is how errors refer to it (e.g. "query.npy", "--data"); `missing`,
// if given, is added to the error for a path that does not exist (e.g. which package provides it).
CheckedFile open_checked(const std::string& path, const std::string& name, std::uintmax_t max_bytes,
                         const std::string& missing = "");

// Opens PATH for writing (a new file, or one truncated) after checking that whatever is already there
// is a regular file: a FIFO in its place would block the program until a reader comes, a directory
// cannot be written. A usage_error names the path otherwise, and when it cannot be opened.
std::ofstream create_checked(const std::string& path);

// open_checked, then the whole file as a string, read up to max_bytes (a file in /proc says it has
// 0 bytes and may hold more: reading stops, with the error, past max_bytes).
std::string read_text_file(const std::string& path, const std::string& name, std::uintmax_t max_bytes,
                           const std::string& missing = "");

}  // namespace course

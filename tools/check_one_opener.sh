#!/usr/bin/env bash
# check_one_opener.sh: every file the course's programs read or write is opened by common/files.cpp
# (open_checked, read_text_file, create_checked), which refuses a FIFO, a device, a directory or a
# file over its size limit before opening it (CONTRIBUTING.md, "PyTorch interop"). Fails, naming the
# lines, if code outside common/files.[ch]pp opens a file itself: a std::ifstream, std::ofstream or
# std::fstream constructed from a path, .open(...) on a stream, or fopen.
set -u
cd "$(dirname "$0")/.."
found=$(grep -rnE 'std::(i|o)?fstream[[:space:]]+[A-Za-z_]+[[:space:]]*[({]|std::(i|o)?fstream[[:space:]]*\(|\.open\(|\bfopen\(' \
          chapters common bench exercises --include='*.cpp' --include='*.hpp' |
        grep -v '^common/files\.[ch]pp:' | grep -v '^chapters/[^/]*/test[^/]*\.cpp:')  # the tests are not programs
if [ -n "$found" ]; then
  echo "$found"
  echo "FAIL: open files through common/files.hpp (open_checked, read_text_file, create_checked)"
  exit 1
fi
echo "OK: every file is opened by common/files.cpp"

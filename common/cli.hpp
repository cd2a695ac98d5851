// Command-line handling on CLI11, with the error contract every chapter program keeps:
//   --help                         prints usage, exit 0
//   bad input (flag, number, size, file) one line on stderr "chNN_slug: error: ...", exit 2
//   a self-check failed            exit 1 (main's body returns SelfChecks::exit_code())
//   an exercise not implemented    one line on stderr, exit 3 (only with COURSE_USE_EXERCISES)
#pragma once
#include "tensor.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace course {

// The flags every chapter program shares.
struct CommonOptions {
  std::uint64_t seed = 42;
  bool no_color = false;
  std::string svg_dir;   // --svg DIR: write the figures here
  std::string load_dir;  // --load DIR: read inputs / weights as .npy (PyTorch interop)
  std::string save_dir;  // --save DIR: write outputs as .npy
};

// Adds --seed, --no-color and --svg DIR; with `interop`, also --load DIR and --save DIR.
void add_common_options(CLI::App& app, CommonOptions& options, bool interop);

// A CLI11 check that the text is a whole number in [low, high], with a plain message otherwise.
CLI::Validator whole_number_in(long long low, long long high);

// Adds a size flag that must be a whole number in [1, max].
CLI::Option* add_size_option(CLI::App& app, const std::string& flag, int& value, const std::string& help,
                             int max);

// The most memory a chapter program may ask for; sizes that need more are bad input.
constexpr double memory_limit_bytes = 1024.0 * 1024.0 * 1024.0;  // 1 GiB

// Throws usage_error, naming `what` and the bytes it would need, if bytes > memory_limit_bytes.
void require_memory(double bytes, const std::string& what);

// "1.5 GiB", "12.0 KiB", "800 B".
std::string format_bytes(double bytes);

// CLI11's message for a malformed command line, as one plain sentence that echoes at most ~80
// characters of any value: "--seed needs a value: a whole number from 0 to ...", "unknown flag --x:
// ...", "--seed is given more than once; give it once". run_program prints it.
std::string plain_parse_error(const CLI::ParseError& e);

// Parses argv with the error contract above, turns colour on or off, runs body and maps exceptions
// to exit codes. Returns what main() should return.
int run_program(CLI::App& app, int argc, char** argv, const CommonOptions& options,
                const std::function<int()>& body);

}  // namespace course

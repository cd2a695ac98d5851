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

// Throws usage_error when --save is given without --load, for programs whose --save writes what
// --load computes (and so has nothing to write without it).
void require_load_for_save(const CommonOptions& options);

// For a program whose --load files come with flags that describe them (--heads, ...), run without
// --load: throws usage_error(why) when one of those flags was given (load_flags_given), then
// require_load_for_save.
void require_load_for(const CommonOptions& options, bool load_flags_given, const std::string& why);

// A CLI11 check that the text is a whole number in [low, high], with a plain message otherwise.
CLI::Validator whole_number_in(long long low, long long high);

// A CLI11 check that the text is a finite number in [low, high] (CLI::Range lets "nan" through); `why`,
// if given, says why the range ends where it does and is added to the message.
CLI::Validator finite_in(double low, double high, const std::string& why = "");

// A CLI11 check that the text is a finite number in (0, high] (CLI::PositiveNumber lets "nan" through).
CLI::Validator positive_up_to(double high);

// Adds a size flag that must be a whole number in [1, max].
CLI::Option* add_size_option(CLI::App& app, const std::string& flag, int& value, const std::string& help,
                             int max);

// Adds a size flag that must be a whole number in [min, max]. `why` says why the range ends where it
// does (e.g. "at least 2: layer norm of one number is always 0"); it is added to the flag's --help
// text and to the error for a value outside the range.
CLI::Option* add_size_option(CLI::App& app, const std::string& flag, int& value, const std::string& help,
                             int min, int max, const std::string& why);

// Adds --temperature T, a number in (0, 100], and --top-k K, a whole number in [1, 100000]: how a
// program that generates text samples it (chapters 16 and 17).
void add_sampling_options(CLI::App& app, double& temperature, int& top_k);

// The most memory a chapter program may ask for; sizes that need more are bad input.
constexpr double memory_limit_bytes = 1024.0 * 1024.0 * 1024.0;  // 1 GiB

// Throws usage_error, naming `what` and the bytes it would need, if bytes > limit.
void require_memory(double bytes, const std::string& what, double limit = memory_limit_bytes);

// "1.5 GiB", "12.0 KiB", "800 B".
std::string format_bytes(double bytes);

// CLI11's message for a malformed command line, as one plain sentence that echoes at most ~80
// characters of any value: "--seed needs a value: a whole number from 0 to ...", "unknown flag --x:
// ...", "--seed is given more than once; give it once". run_program prints it.
std::string plain_parse_error(const CLI::ParseError& e);

// The most work a chapter program may do for one set of flags: a few seconds. Every program
// estimates its work from its sizes before it starts and refuses more (exit 2, with the number).
// Work is counted in multiply-adds of a plain C++ loop over doubles in the cache (one a(i, k) * b(k, j)
// added to a sum); the slower steps below count as the multiply-adds they cost. Measured with
// tools/measure_work_rate.sh on the course's 2-core machine while other builds kept it busy (load
// average 4 to 9, a conservative rate): a multiply-add took 1.0 to 2.9 ns, 1.6 ns typically, so the
// limit is about 3 s there.
constexpr double work_limit = 2e9;                   // multiply-adds
constexpr double seconds_per_multiply_add = 1.6e-9;  // the rate measured above
// The cost of other steps, in multiply-adds (same measurements, ranges in brackets, rounded up):
// a multiply-add whose operands stream from memory (rows beyond the cache) [7]
constexpr double streamed_multiply_add = 8;
// a multiply-add inside OpenBLAS (xt::linalg::dot) [0.04 - 0.08]
constexpr double blas_multiply_add = 0.1;
// one double of a newly allocated matrix: page faults and zeroing [22 - 36]
constexpr double fresh_double = 35;
// one Rng::normal() [13 - 25] and one Rng::uniform() [5 - 10]
constexpr double normal_draw = 25;
constexpr double uniform_draw = 10;
// one exp, log, sin, cos, tanh or pow [exp 3 - 7, sin(pow(x)) 16 - 28]
constexpr double math_call = 15;
// one number shown by print_matrix or print_heatmap in a terminal [1100 - 3000; 100 - 200 into a file]
constexpr double printed_number = 3000;
// one cell of an SVG heatmap (write_heatmap_svg) [1200 - 2800]
constexpr double svg_cell = 3000;

// Throws usage_error, naming `what`, its multiply-adds and about how long they would take, if
// multiply_adds > limit.
void require_work(double multiply_adds, const std::string& what, double limit = work_limit);

// What one run will need, estimated from the sizes before it starts.
struct Cost {
  double bytes = 0;          // memory held at the peak
  double multiply_adds = 0;  // work, counted as for work_limit
};

// The limits an estimate must fit.
struct Limits {
  double bytes;
  double multiply_adds;
};
constexpr Limits chapter_limits{memory_limit_bytes, work_limit};
// Benchmarks (bench/) time things on purpose and are run by hand: up to about 2 minutes and 6 GiB
// (bench_12_attention's naive attention holds two (n, n) matrices, 4.0 GiB at n = 16384, by design).
constexpr Limits benchmark_limits{6 * memory_limit_bytes, 40 * work_limit};

// require_memory and require_work on one estimate.
void require_within_limits(const Cost& cost, const std::string& what, const Limits& limits = chapter_limits);

// Whether an estimate fits the limits.
inline bool within_limits(const Cost& cost, const Limits& limits = chapter_limits) {
  return cost.bytes <= limits.bytes && cost.multiply_adds <= limits.multiply_adds;
}

// The largest value in [low, high] of one size flag whose run fits the limits with every other flag
// at its default: the flag's maximum follows from the limits instead of being picked by hand.
// cost_of estimates a run from the options; it must not decrease as the flag grows. Returns low if
// even low does not fit (require_within_limits then refuses it with the numbers).
//   add_size_option(app, "--rows", opt.rows, "Rows", largest_within_limits(&Options::rows, cost_of));
template <class Options>
int largest_within_limits(int Options::*flag, Cost (*cost_of)(const Options&), int low = 1,
                          int high = 1 << 30, const Limits& limits = chapter_limits) {
  const auto fits = [&](int value) {
    Options options;  // the defaults
    options.*flag = value;
    return within_limits(cost_of(options), limits);
  };
  if (!fits(low)) return low;
  while (low < high) {  // fits(low) holds; find the last value that fits
    const int middle = low + (high - low + 1) / 2;
    if (fits(middle)) {
      low = middle;
    } else {
      high = middle - 1;
    }
  }
  return low;
}

// A size flag for the field `member` of Options, from `low` up to the largest value whose run fits the
// limits with every other flag at its default (largest_within_limits); `why`, if given, says why the
// range starts at low (as for add_size_option):
//   add_size_flag(app, "--rows", opt, &Options::rows, "Rows of the score matrix", cost_of);
template <class Options>
CLI::Option* add_size_flag(CLI::App& app, const std::string& flag, Options& opt, int Options::*member,
                           const std::string& help, Cost (*cost_of)(const Options&), int low = 1,
                           const std::string& why = "") {
  const int high = largest_within_limits(member, cost_of, low);
  if (low == 1 && why.empty()) return add_size_option(app, flag, opt.*member, help, high);
  return add_size_option(app, flag, opt.*member, help, low, high, why);
}

// Parses argv with the error contract above, turns colour on or off, sets OpenBLAS to one thread
// (use_one_blas_thread, common/linalg.hpp: the same sums in the same order on every run), runs body
// and maps exceptions to exit codes. Returns what main() should return.
int run_program(CLI::App& app, int argc, char** argv, const CommonOptions& options,
                const std::function<int()>& body);

}  // namespace course

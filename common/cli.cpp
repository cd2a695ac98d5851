#include "cli.hpp"

#include "linalg.hpp"  // use_one_blas_thread
#include "npy.hpp"     // unread_files_checked
#include "print.hpp"

#include <fmt/format.h>

#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <stdexcept>

namespace course {

namespace {
// One line on stderr, prefixed with the program's name. Newlines and other control characters
// inside the message become spaces, and a message that still echoes too much is shortened, so that
// the error really is one short line (values should be shortened where they are echoed; this is the
// backstop).
void print_error(const CLI::App& app, const std::string& message) {
  std::string one_line = message;
  for (auto& ch : one_line) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = ' ';
  }
  while (!one_line.empty() && one_line.back() == ' ') one_line.pop_back();
  std::fflush(stdout);
  fmt::print(stderr, "{}: error: {}\n", app.get_name(), shorten(one_line, 300));
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// What a flag's value should be, from CLI11's type text: "INT:in [1 - 1000]" -> "a whole number from
// 1 to 1000", "DIR" -> "a directory name".
std::string value_kind(const std::string& type) {
  const std::size_t in = type.find("in [");
  const std::size_t dash = type.find(" - ", in), close = type.find(']', in);
  if (in != std::string::npos && dash != std::string::npos && close != std::string::npos) {
    return fmt::format("a whole number from {} to {}", type.substr(in + 4, dash - in - 4),
                       type.substr(dash + 3, close - dash - 3));
  }
  if (type == "DIR") return "a directory name";
  return "a value";
}
}  // namespace

std::string plain_parse_error(const CLI::ParseError& e) {
  const std::string what = e.what();
  const std::size_t colon = what.find(": ");
  const std::string flag = colon == std::string::npos ? "" : what.substr(0, colon);
  const std::string rest = colon == std::string::npos ? what : what.substr(colon + 2);
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    // "--seed: 1 required UINT:in [0 - 9223372036854775807] missing"
    const std::size_t required = rest.find(" required ");
    if (ends_with(rest, " missing") && required != std::string::npos) {
      const std::string type = rest.substr(required + 10, rest.size() - 8 - (required + 10));
      return fmt::format("{} needs a value: {}", flag, value_kind(type));
    }
    // "--seed: At Most 1 required but received 2"
    if (starts_with(rest, "At Most 1 ")) return fmt::format("{} is given more than once; give it once", flag);
  }
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    // "The following argument(s) was/were not expected: ARG ..." (CLI11 lists them last first, so
    // "--foo 3" arrives as "3 --foo"): put them back in order and name the first unknown flag.
    std::vector<std::string> args;
    for (std::size_t start = 0; start <= rest.size();) {
      const std::size_t space = std::min(rest.find(' ', start), rest.size());
      if (space > start) args.insert(args.begin(), rest.substr(start, space - start));
      start = space + 1;
    }
    for (const std::string& arg : args) {
      if (starts_with(arg, "-")) return "unknown flag " + shorten(arg, 60);
    }
    std::string listed;
    for (const std::string& arg : args) listed += (listed.empty() ? "" : " ") + arg;
    return "unexpected argument '" + shorten(listed, 60) + "': this program takes flags only";
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr) {
    // "Could not convert: --no-color = maybe"
    const std::size_t equals = rest.find(" = ");
    if (starts_with(what, "Could not convert: ") && equals != std::string::npos) {
      return fmt::format("{}: '{}' is not a valid value", rest.substr(0, equals),
                         shorten(rest.substr(equals + 3)));
    }
  }
  return shorten(what, 200);
}

void add_common_options(CLI::App& app, CommonOptions& options, bool interop) {
  app.add_option("--seed", options.seed, "Seed of the random numbers (same seed, same numbers)")
      ->check(whole_number_in(0, std::numeric_limits<long long>::max()))
      ->capture_default_str();
  app.add_flag("--no-color", options.no_color, "Never use colour (also: set NO_COLOR)");
  app.add_option("--svg", options.svg_dir, "Write the figures as SVG files into DIR")->type_name("DIR");
  if (interop) {
    app.add_option("--load", options.load_dir, "Read inputs and weights from .npy files in DIR")
        ->type_name("DIR");
    app.add_option("--save", options.save_dir, "Write the outputs as .npy files into DIR")->type_name("DIR");
  }
}

void require_load_for_save(const CommonOptions& options) {
  if (!options.save_dir.empty() && options.load_dir.empty())
    throw usage_error("--save writes what --load computes; give --load DIR too");
}

void require_load_for(const CommonOptions& options, bool load_flags_given, const std::string& why) {
  if (load_flags_given) throw usage_error(why);
  require_load_for_save(options);
}

namespace {
// true, with the number in `value`, when the whole text is one finite number
bool parse_finite(const std::string& text, double& value) {
  std::size_t used = 0;
  try {
    value = std::stod(text, &used);
  } catch (...) {
    return false;
  }
  return used == text.size() && std::isfinite(value);
}
}  // namespace

CLI::Validator finite_in(double low, double high, const std::string& why) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double value = 0;
        if (parse_finite(text, value) && value >= low && value <= high) return "";
        return fmt::format("must be a finite number from {:g} to {:g}{}", low, high,
                           why.empty() ? "" : " (" + why + ")");
      },
      fmt::format("NUMBER in [{:g}, {:g}]", low, high));
}

CLI::Validator positive_up_to(double high) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double value = 0;
        if (parse_finite(text, value) && value > 0.0 && value <= high) return "";
        return fmt::format("must be a finite number above 0 and at most {:g}", high);
      },
      fmt::format("NUMBER in (0, {:g}]", high));
}

CLI::Validator whole_number_in(long long low, long long high) {
  return CLI::Validator(
      [low, high](std::string& text) -> std::string {
        const std::string out_of_range =
            fmt::format("{} is out of range: it must be between {} and {}", shorten(text), low, high);
        std::size_t used = 0;
        long long value = 0;
        try {
          value = std::stoll(text, &used);
        } catch (const std::out_of_range&) {
          return out_of_range;
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size()) return fmt::format("'{}' is not a whole number", shorten(text));
        // CLI11 reads "010" as octal 8 and refuses "08": a leading zero is refused here, with a reason
        const std::size_t first_digit = text.find_first_of("0123456789");
        if (text[first_digit] == '0' && first_digit + 1 < text.size()) {
          return fmt::format("'{}': write the number without leading zeros", shorten(text));
        }
        if (value < low || value > high) return out_of_range;
        return "";
      },
      fmt::format("in [{} - {}]", low, high));
}

CLI::Option* add_size_option(CLI::App& app, const std::string& flag, int& value, const std::string& help,
                             int max) {
  return app.add_option(flag, value, help)->check(whole_number_in(1, max))->capture_default_str();
}

CLI::Option* add_size_option(CLI::App& app, const std::string& flag, int& value, const std::string& help,
                             int min, int max, const std::string& why) {
  const CLI::Validator range = whole_number_in(min, max);
  CLI::Validator explained(
      [range, why](std::string& text) -> std::string {
        const std::string error = range(text);
        return error.empty() || why.empty() ? error : fmt::format("{} ({})", error, why);
      },
      range.get_description());
  const std::string text = why.empty() ? help : fmt::format("{} ({})", help, why);
  return app.add_option(flag, value, text)->check(explained)->capture_default_str();
}

void add_sampling_options(CLI::App& app, double& temperature, int& top_k) {
  app.add_option("--temperature", temperature,
                 fmt::format("Sampling temperature in (0, 100] (default {:g})", temperature))
      ->check(positive_up_to(100.0));
  add_size_option(app, "--top-k", top_k, "Top-k of the samples", 100000);
}

std::string format_bytes(double bytes) {
  if (bytes >= 1024.0 * 1024.0 * 1024.0) return fmt::format("{:.1f} GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  if (bytes >= 1024.0 * 1024.0) return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0));
  if (bytes >= 1024.0) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.0f} B", bytes);
}

void require_memory(double bytes, const std::string& what, double limit) {
  if (bytes > limit) {
    throw usage_error(fmt::format("{} would need {}, more than the limit of {}; choose smaller sizes", what,
                                  format_bytes(bytes), format_bytes(limit)));
  }
}

void require_work(double multiply_adds, const std::string& what, double limit) {
  // "about 63 s" at the rate measured for work_limit (cli.hpp)
  const auto duration = [](double work) {
    const double seconds = work * seconds_per_multiply_add;
    if (seconds < 10) return fmt::format("about {:.1f} s", seconds);
    return seconds < 1e6 ? fmt::format("about {:.0f} s", seconds) : fmt::format("about {:.0e} s", seconds);
  };
  if (multiply_adds > limit) {
    throw usage_error(fmt::format(
        "{} would take {:.1e} multiply-adds ({}), more than the limit of {:.0e} ({}); choose smaller sizes",
        what, multiply_adds, duration(multiply_adds), limit, duration(limit)));
  }
}

void require_within_limits(const Cost& cost, const std::string& what, const Limits& limits) {
  require_memory(cost.bytes, what, limits.bytes);
  require_work(cost.multiply_adds, what, limits.multiply_adds);
}

int run_program(CLI::App& app, int argc, char** argv, const CommonOptions& options,
                const std::function<int()>& body) {
  // 1. parse: --help exits 0, anything malformed exits 2 with one line
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    print_error(app, plain_parse_error(e) + " (see --help)");
    return 2;
  }
  // a directory flag given an empty name ("--save ''") would silently mean "not given"
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_type_name() == "DIR" && option->count() > 0 && option->as<std::string>().empty()) {
      print_error(app, option->get_name() + " needs a directory name, not an empty string (see --help)");
      return 2;
    }
  }
  // 2. colour only on a terminal, without NO_COLOR, without --no-color
  const char* no_color_env = std::getenv("NO_COLOR");
  set_color(!options.no_color && (no_color_env == nullptr || *no_color_env == '\0') &&
            isatty(fileno(stdout)) == 1);
  // 3. one BLAS thread, so every product adds its terms in the same order on every run
  use_one_blas_thread();
  // 4. run, mapping exceptions to the contract's exit codes
  try {
    // The input directory must be one; output directories are made (or refused) before any work.
    if (!options.load_dir.empty()) {
      std::error_code ec;
      const auto type = std::filesystem::status(options.load_dir, ec).type();
      if (type == std::filesystem::file_type::not_found)
        throw usage_error(fmt::format("--load {}: no such directory", shorten(options.load_dir)));
      if (type != std::filesystem::file_type::directory)
        throw usage_error(fmt::format("--load {}: not a directory{}", shorten(options.load_dir),
                                      ec ? " (" + ec.message() + ")" : ""));
    }
    for (const std::string& dir : {options.svg_dir, options.save_dir}) {
      std::error_code ec;
      if (!dir.empty()) std::filesystem::create_directories(dir, ec);
      if (ec) throw usage_error(fmt::format("cannot create directory {} ({})", shorten(dir), ec.message()));
    }
    const int code = body();
    // every --load directory is checked for files the program did not read (npy.hpp)
    if (!options.load_dir.empty() && !unread_files_checked())
      throw std::logic_error("--load DIR was read without require_no_unread_files (npy.hpp)");
    return code;
  } catch (const usage_error& e) {
    print_error(app, e.what());
    return 2;
  } catch (const not_implemented& e) {
    print_error(app, std::string(e.what()) +
                         " (this program was built on your exercises: finish them, or rebuild "
                         "with -DCOURSE_USE_EXERCISES=OFF)");
    return 3;
  } catch (const std::bad_alloc&) {
    print_error(app, "out of memory; choose smaller sizes");
    return 2;
  } catch (const std::exception& e) {
    print_error(app, std::string("internal error: ") + e.what());
    return 1;
  }
}

}  // namespace course

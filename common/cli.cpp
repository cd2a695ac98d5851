#include "cli.hpp"

#include "print.hpp"

#include <fmt/format.h>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>

namespace course {

namespace {
// One line on stderr, prefixed with the program's name; newlines inside the message are flattened
// so that the error really is one line.
void print_error(const CLI::App& app, const std::string& message) {
  std::string one_line = message;
  for (auto& ch : one_line) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  while (!one_line.empty() && one_line.back() == ' ') one_line.pop_back();
  std::fflush(stdout);
  fmt::print(stderr, "{}: error: {}\n", app.get_name(), one_line);
}
}  // namespace

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

CLI::Validator whole_number_in(long long low, long long high) {
  return CLI::Validator(
      [low, high](std::string& text) -> std::string {
        std::size_t used = 0;
        try {
          const long long value = std::stoll(text, &used);
          if (used == text.size() && (value < low || value > high)) {
            return fmt::format("{} is out of range: it must be between {} and {}", text, low, high);
          }
        } catch (const std::out_of_range&) {
          return fmt::format("{} is out of range: it must be between {} and {}", text, low, high);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size()) return fmt::format("'{}' is not a whole number", text);
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
    print_error(app, std::string(e.what()) + " (see --help)");
    return 2;
  }
  // 2. colour only on a terminal, without NO_COLOR, without --no-color
  const char* no_color_env = std::getenv("NO_COLOR");
  set_color(!options.no_color && (no_color_env == nullptr || *no_color_env == '\0') &&
            isatty(fileno(stdout)) == 1);
  // 3. run, mapping exceptions to the contract's exit codes
  try {
    // Output directories are made (or refused) before any work, not after it.
    for (const std::string& dir : {options.svg_dir, options.save_dir}) {
      std::error_code ec;
      if (!dir.empty()) std::filesystem::create_directories(dir, ec);
      if (ec) throw usage_error(fmt::format("cannot create directory {} ({})", dir, ec.message()));
    }
    return body();
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

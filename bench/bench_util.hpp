// What the benchmarks share: the median of rounds and a stopwatch (common/timing.hpp), and the PyTorch
// side as a child process spoken to over two pipes (a line out, a line back), so that the C++ and the
// PyTorch contenders can take turns in one run and see the same load.
#pragma once
#include "cli.hpp"
#include "linalg.hpp"  // product
#include "rng.hpp"
#include "timing.hpp"  // median, seconds_since

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace course::bench {

// A child process (e.g. /usr/bin/python3 tools/bench_NN_pytorch.py ...) with its stdin and stdout on two
// pipes, started with OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1 (one thread unless the script asks
// for more), and with its idle threads told to sleep at once (OPENBLAS_THREAD_TIMEOUT=4, the least:
// 2^4 cycles; OMP_WAIT_POLICY=PASSIVE): by default they spin on a core for a while after each call,
// which slows whatever the benchmark times next. It must first print the line `ready` (e.g.
// "ready bench_12": each script names its benchmark, so that a wrong --script is refused);
// `ask` sends a line and returns the line it answers; the destructor sends "quit" and waits for it.
// The child's stderr goes to a temporary file: when it fails, its last line (a Python exception, say)
// becomes part of the benchmark's one-line error instead of a traceback on the terminal.
class ChildProcess {
 public:
  // args[0] is the program; `what` names it and `hint` says what to do in the error when it does not start.
  ChildProcess(const std::vector<std::string>& args, const std::string& ready, const std::string& what,
               const std::string& hint)
      : what_(what) {
    // a write to a child that has died fails with an error instead of killing this process
    std::signal(SIGPIPE, SIG_IGN);
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) throw usage_error("cannot make a pipe for " + what);
    errors_ = std::tmpfile();
    pid_ = fork();
    if (pid_ < 0) throw usage_error("cannot start " + what + " (fork failed)");
    if (pid_ == 0) {  // the child: stdin and stdout on the pipes, stderr to the file, then the program
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      if (errors_) dup2(fileno(errors_), 2);
      close(to_child[1]);
      close(from_child[0]);
      setenv("OPENBLAS_NUM_THREADS", "1", 1);
      setenv("OMP_NUM_THREADS", "1", 1);
      setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
      setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
      std::vector<char*> argv;
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(args[0].c_str(), argv.data());
      std::fprintf(stderr, "cannot run %s\n", args[0].c_str());
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    to_ = fdopen(to_child[1], "w");
    from_ = fdopen(from_child[0], "r");
    const std::string first = read_line();
    if (first != ready) {
      const std::string message =
          first.empty() ? what + " did not start" + said() + "; " + hint
                        : fmt::format("{} said \"{}\", not \"{}\": not this benchmark's script; {}", what,
                                      first.substr(0, 60), ready, hint);
      stop();
      throw usage_error(message);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { stop(); }
  // Sends `line`, returns the answer ("" when the child has stopped).
  std::string ask(const std::string& line) {
    std::fprintf(to_, "%s\n", line.c_str());
    std::fflush(to_);
    return read_line();
  }
  // Sends `line` and reads the answer as a number of seconds.
  double ask_seconds(const std::string& line) {
    const std::string answer = ask(line);
    char* end = nullptr;
    const double seconds = std::strtod(answer.c_str(), &end);
    if (answer.empty() || end == answer.c_str())
      throw usage_error(
          fmt::format("{} stopped answering (to \"{}\": \"{}\"){}", what_, line, answer, said()));
    return seconds;
  }
  // ": <the last line the child wrote to stderr>", or "" if it wrote none
  std::string said() const {
    if (!errors_) return "";
    std::string text(4096, '\0');
    const long size = std::max(0L, static_cast<long>(lseek(fileno(errors_), 0, SEEK_END)));
    const long start = std::max(0L, size - static_cast<long>(text.size()));
    const ssize_t got = pread(fileno(errors_), text.data(), text.size(), start);
    text.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    const std::size_t newline = text.rfind('\n');
    const std::string last = newline == std::string::npos ? text : text.substr(newline + 1);
    return last.empty() ? "" : ": " + last;
  }

 private:
  std::string read_line() {
    char buffer[256];
    if (!std::fgets(buffer, sizeof buffer, from_)) return "";
    std::string line(buffer);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
  }
  // says "quit" if the child still listens, closes the pipes and waits for it
  void stop() {
    if (to_) {
      std::fputs("quit\n", to_);
      std::fclose(to_);
      to_ = nullptr;
    }
    if (from_) {
      std::fclose(from_);
      from_ = nullptr;
    }
    if (pid_ > 0) {
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (errors_) {
      std::fclose(errors_);
      errors_ = nullptr;
    }
  }
  std::string what_;
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
  FILE* errors_ = nullptr;  // the child's stderr
};

// --- the flags and the rounds that benchmarks share ---------------------------------------------------

// The sizes of the transformer a benchmark builds (the rest, batch and length, are its own flags).
struct ModelSizes {
  int d_model = 32, heads = 2, d_ff = 64, layers = 2, vocab = 10;
};

// Adds --d-model, --heads, --d-ff and --layers (`layers_name` says what a layer is: "Encoder layers",
// "Blocks"), and --vocab when with_vocab; each --help text shows the benchmark's default.
inline void add_model_size_options(CLI::App& app, ModelSizes& sizes, const std::string& layers_name,
                                   bool with_vocab) {
  add_size_option(app, "--d-model", sizes.d_model, fmt::format("Width E (default {})", sizes.d_model), 4096);
  add_size_option(app, "--heads", sizes.heads, fmt::format("Heads H (default {})", sizes.heads), 4096);
  add_size_option(app, "--d-ff", sizes.d_ff, fmt::format("Feed-forward width F (default {})", sizes.d_ff),
                  16384);
  add_size_option(app, "--layers", sizes.layers, fmt::format("{} (default {})", layers_name, sizes.layers),
                  64);
  if (with_vocab) {
    add_size_option(app, "--vocab", sizes.vocab, fmt::format("Vocabulary V (default {})", sizes.vocab),
                    100000);
  }
}

// Adds --rounds R and --steps K of a benchmark that times K steps per round, R rounds per side.
inline void add_round_options(CLI::App& app, int& rounds, int& steps) {
  add_size_option(app, "--rounds", rounds, fmt::format("Rounds per side (default {})", rounds), 1000);
  add_size_option(app, "--steps", steps, fmt::format("Steps per round (default {})", steps), 100000);
}

// A model's configuration (chapter 14's TinyEncoderConfig, chapter 16's TinyGptConfig) with these
// sizes; its length (seq_len, n_ctx) is the caller's to set. Throws usage_error when --heads does not
// divide --d-model.
template <class Config>
Config config_with(const ModelSizes& sizes) {
  if (sizes.d_model % sizes.heads != 0)
    throw usage_error(fmt::format("--heads {} does not divide --d-model {}", sizes.heads, sizes.d_model));
  Config c;
  c.vocab = static_cast<std::size_t>(sizes.vocab);
  c.d_model = static_cast<std::size_t>(sizes.d_model);
  c.n_heads = static_cast<std::size_t>(sizes.heads);
  c.d_ff = static_cast<std::size_t>(sizes.d_ff);
  c.n_layers = static_cast<std::size_t>(sizes.layers);
  return c;
}

// Where a benchmark's PyTorch side is (--python, --script), or that it has none (--no-pytorch).
struct PytorchSide {
  std::string python = "/usr/bin/python3";
  std::string script;  // the benchmark's own, e.g. tools/bench_14_pytorch.py
  bool none = false;   // --no-pytorch
};

// Adds --python, --script and --no-pytorch; the --script text shows the default script.
inline void add_pytorch_options(CLI::App& app, PytorchSide& side) {
  app.add_option("--python", side.python, "The Python with PyTorch (default /usr/bin/python3)");
  app.add_option("--script", side.script, fmt::format("The PyTorch side (default {})", side.script));
  app.add_flag("--no-pytorch", side.none, "Time the C++ side only");
}

// Starts the PyTorch side with `args` after the script (the model's sizes), which must answer
// `ready`; none with --no-pytorch.
inline std::unique_ptr<ChildProcess> start_pytorch(const PytorchSide& side,
                                                   const std::vector<std::string>& args,
                                                   const std::string& ready, const std::string& hint) {
  if (side.none) return nullptr;
  std::vector<std::string> command = {side.python, side.script};
  command.insert(command.end(), args.begin(), args.end());
  return std::make_unique<ChildProcess>(
      command, ready, fmt::format("the PyTorch side ({} {})", side.python, side.script), hint);
}

// One round of each side, C++ first: `steps` calls of cpp_step timed here, then the PyTorch side's
// own `steps` steps ("round K", timed there); each side's seconds per step are appended to its list
// (nothing to torch without a PyTorch side).
template <class Step>
void time_round(int steps, Step&& cpp_step, ChildProcess* pytorch, std::vector<double>& cpp,
                std::vector<double>& torch) {
  const auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < steps; ++k) cpp_step();
  cpp.push_back(seconds_since(start) / steps);
  if (pytorch) torch.push_back(pytorch->ask_seconds(fmt::format("round {}", steps)) / steps);
}

// multiply-adds per second of one 512 x 512 x 512 product (common/linalg.hpp, one thread), the median
// of 5: the machine's practical peak for float64 products, against which the training benchmarks
// (bench_16, bench_18, bench_19) set each side's rate. Called once per round, so that it sees the same load.
inline double product_rate(Rng& rng) {
  const Matrix a = rng.uniform_matrix(512, 512, -1.0, 1.0), b = rng.uniform_matrix(512, 512, -1.0, 1.0);
  std::vector<double> rates;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const Matrix c = product(a, b);
    rates.push_back(512.0 * 512.0 * 512.0 / seconds_since(start));
  }
  return median(rates);
}

// One row of a training benchmark's table: a side's time per step, its rate, and that rate's share
// of the peak (product_rate), e.g.
//   "  C++ (this course)            8.31 ms per step    1.60 G multiply-adds/s   18.3% of the peak"
inline void print_step_rate(const std::string& label, double seconds, double multiply_adds, double peak) {
  fmt::print("  {:<24} {:9.2f} ms per step  {:6.2f} G multiply-adds/s  {:5.1f}% of the peak\n", label,
             1e3 * seconds, multiply_adds / seconds / 1e9, 100.0 * multiply_adds / seconds / peak);
}

// race_with_pytorch — R rounds: each a product_rate (the peak), then `steps` of cpp_step and the PyTorch
// side's `steps` (time_round); then the table of bench_16 and bench_19: the peak, each side's median
// milliseconds per step, its multiply-adds a second and its share of the peak, and the ratio.
template <class Step>
void race_with_pytorch(int rounds, int steps, double multiply_adds, Rng& rng, Step&& cpp_step,
                       ChildProcess* pytorch) {
  std::vector<double> cpp, torch, rates;
  for (int r = 0; r < rounds; ++r) {
    rates.push_back(product_rate(rng));
    time_round(steps, cpp_step, pytorch, cpp, torch);
  }
  const double peak = median(rates);
  fmt::print("median over {} rounds of {} steps, the two sides taking turns:\n", rounds, steps);
  fmt::print("  one 512 x 512 x 512 product (OpenBLAS)  {:8.2f} G multiply-adds/s (the peak below)\n",
             peak / 1e9);
  print_step_rate("C++ (this course)", median(cpp), multiply_adds, peak);
  if (pytorch) {
    print_step_rate("PyTorch 1.13 eager, CPU", median(torch), multiply_adds, peak);
    fmt::print("  ratio C++ / PyTorch      {:9.2f}\n", median(cpp) / median(torch));
  }
}

}  // namespace course::bench

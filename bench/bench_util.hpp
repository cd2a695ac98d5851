// What the benchmarks that compare with PyTorch share: the median of rounds, a stopwatch, and the
// PyTorch side as a child process spoken to over two pipes (a line out, a line back), so that the C++
// and the PyTorch contenders can take turns in one run and see the same load.
#pragma once
#include "cli.hpp"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace course::bench {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The middle value (the upper one of the two middles for an even count).
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// A child process (e.g. /usr/bin/python3 tools/bench_NN_pytorch.py ...) with its stdin and stdout on two
// pipes, started with OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1 (one thread unless the script asks
// for more), and with its idle threads told to sleep at once (OPENBLAS_THREAD_TIMEOUT=4, the least:
// 2^4 cycles; OMP_WAIT_POLICY=PASSIVE): by default they spin on a core for a while after each call,
// which slows whatever the benchmark times next. It must print "ready" first;
// `ask` sends a line and returns the line it answers; the destructor sends "quit" and waits for it.
class ChildProcess {
 public:
  // args[0] is the program; `what` names it and `hint` says what to do in the error when it does not start.
  ChildProcess(const std::vector<std::string>& args, const std::string& what, const std::string& hint) {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) throw usage_error("cannot make a pipe for " + what);
    pid_ = fork();
    if (pid_ < 0) throw usage_error("cannot start " + what + " (fork failed)");
    if (pid_ == 0) {  // the child: stdin and stdout on the pipes, then the program
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
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
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    to_ = fdopen(to_child[1], "w");
    from_ = fdopen(from_child[0], "r");
    if (read_line() != "ready") throw usage_error(what + " did not start; " + hint);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (to_) {
      std::fputs("quit\n", to_);
      std::fclose(to_);
    }
    if (from_) std::fclose(from_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
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
      throw usage_error(fmt::format("the PyTorch side stopped answering (to \"{}\": \"{}\")", line, answer));
    return seconds;
  }

 private:
  std::string read_line() {
    char buffer[256];
    if (!std::fgets(buffer, sizeof buffer, from_)) return "";
    std::string line(buffer);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
  }
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

}  // namespace course::bench

// PLACEHOLDER — chapter 10's program is being written.
#include "cli.hpp"
#include "contracts/10_attention_vs_rnn.hpp"
int main(int argc, char** argv) {
  CLI::App app{"Chapter 10 (placeholder)", "ch10_attention_vs_rnn"};
  course::CommonOptions common;
  course::add_common_options(app, common, false);
  return course::run_program(app, argc, argv, common, [] { return 0; });
}

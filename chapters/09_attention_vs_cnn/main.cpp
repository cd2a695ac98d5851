// PLACEHOLDER — chapter 09's program is being written.
#include "cli.hpp"
#include "contracts/09_attention_vs_cnn.hpp"
int main(int argc, char** argv) {
  CLI::App app{"Chapter 09 (placeholder)", "ch09_attention_vs_cnn"};
  course::CommonOptions common;
  course::add_common_options(app, common, false);
  return course::run_program(app, argc, argv, common, [] { return 0; });
}

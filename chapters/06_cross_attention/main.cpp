// PLACEHOLDER — chapter 06's program is being written.
#include "cli.hpp"
#include "contracts/06_cross_attention.hpp"
int main(int argc, char** argv) {
  CLI::App app{"Chapter 06 (placeholder)", "ch06_cross_attention"};
  course::CommonOptions common;
  course::add_common_options(app, common, false);
  return course::run_program(app, argc, argv, common, [] { return 0; });
}

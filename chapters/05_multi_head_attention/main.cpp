// PLACEHOLDER — chapter 05's program is being written.
#include "cli.hpp"
#include "contracts/05_multi_head_attention.hpp"
int main(int argc, char** argv) {
  CLI::App app{"Chapter 05 (placeholder)", "ch05_multi_head_attention"};
  course::CommonOptions common;
  course::add_common_options(app, common, false);
  return course::run_program(app, argc, argv, common, [] { return 0; });
}

// PLACEHOLDER — chapter 04's program is being written.
#include "cli.hpp"
#include "contracts/04_masking.hpp"
int main(int argc, char** argv) {
  CLI::App app{"Chapter 04 (placeholder)", "ch04_masking"};
  course::CommonOptions common;
  course::add_common_options(app, common, false);
  return course::run_program(app, argc, argv, common, [] { return 0; });
}

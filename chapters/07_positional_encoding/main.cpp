// PLACEHOLDER — chapter 07's program is being written.
#include "cli.hpp"
#include "contracts/07_positional_encoding.hpp"
int main(int argc, char** argv) {
  CLI::App app{"Chapter 07 (placeholder)", "ch07_positional_encoding"};
  course::CommonOptions common;
  course::add_common_options(app, common, false);
  return course::run_program(app, argc, argv, common, [] { return 0; });
}

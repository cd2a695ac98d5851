// PLACEHOLDER — chapter 02's program is being written.
#include "cli.hpp"
#include "contracts/02_dot_product_attention.hpp"
int main(int argc, char** argv) {
  CLI::App app{"Chapter 02 (placeholder)", "ch02_dot_product_attention"};
  course::CommonOptions common;
  course::add_common_options(app, common, true);
  return course::run_program(app, argc, argv, common, [] { return 0; });
}

// PLACEHOLDER — chapter 08's program is being written.
#include "cli.hpp"
#include "contracts/08_attention_for_images.hpp"
int main(int argc, char** argv) {
  CLI::App app{"Chapter 08 (placeholder)", "ch08_attention_for_images"};
  course::CommonOptions common;
  course::add_common_options(app, common, false);
  return course::run_program(app, argc, argv, common, [] { return 0; });
}

// PLACEHOLDER — chapter 07's tests are being written.
#include "contracts/07_positional_encoding.hpp"
#include "test_util.hpp"
using namespace course;
TEST_CASE("07 placeholder: position 0 is sin 0 and cos 0") {
  CHECK_CLOSE(sinusoidal_encoding(1, 2), Matrix({{0.0, 1.0}}), 0.0);
  CHECK_CLOSE(apply_rope(Matrix({{1.0, 0.0}}), 0), Matrix({{1.0, 0.0}}), 0.0);
}

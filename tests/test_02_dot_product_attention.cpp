// PLACEHOLDER — chapter 02's tests are being written.
#include "contracts/02_dot_product_attention.hpp"
#include "test_util.hpp"
using namespace course;
TEST_CASE("02 placeholder: attention of one query") {
  const Matrix q = {{1.0}}, k = {{1.0}}, v = {{2.0}};
  CHECK_CLOSE(scaled_dot_product_attention(q, k, v).output, Matrix({{2.0}}), 0.0);
}

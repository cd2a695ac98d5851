// PLACEHOLDER — chapter 04's tests are being written.
#include "contracts/04_masking.hpp"
#include "test_util.hpp"
using namespace course;
TEST_CASE("04 placeholder: a causal mask of 2") {
  const BoolMatrix m = causal_mask(2);
  CHECK((!m(0, 0) && m(0, 1) && !m(1, 0) && !m(1, 1)));
  const Matrix q = {{1.0}, {2.0}}, v = {{3.0}, {5.0}};
  const BoolMatrix all = xt::ones<bool>({2, 2});
  CHECK_CLOSE(masked_attention(q, q, v, all).output, Matrix(xt::zeros<double>({2, 1})), 0.0);
}

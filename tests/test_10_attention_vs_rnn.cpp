// PLACEHOLDER — chapter 10's tests are being written.
#include "contracts/10_attention_vs_rnn.hpp"
#include "test_util.hpp"
using namespace course;
TEST_CASE("10 placeholder: one RNN step by hand") {
  RnnWeights w{Matrix({{0.5}}), Matrix({{2.0}}), Vector({0.1}), Vector({0.2})};
  const RnnResult r = rnn_forward(Matrix({{1.0}}), w, Matrix({{0.25}}));
  CHECK_CLOSE(r.output, Matrix({{std::tanh(0.5 + 0.1 + 0.5 + 0.2)}}), 1e-15);
  const Vector s = sensitivity([](const Matrix& x) { return Matrix(3.0 * x); }, Matrix({{1.0}, {2.0}}), 1e-3);
  CHECK_CLOSE(s, Vector({3.0, 0.0}), 1e-12);
}

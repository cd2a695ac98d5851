// Matrix products through OpenBLAS's cblas_dgemm (see linalg.hpp).
#include "linalg.hpp"

#include <cblas.h>  // Debian's libopenblas-dev: cblas_dgemm, openblas_set_num_threads
#include <fmt/format.h>

#include <stdexcept>

namespace course {

// One BLAS thread, set once per process (a function-local static is initialised once, thread-safely).
void use_one_blas_thread() {
  static const bool once = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)once;
}

namespace {

// C (n, m) = op(A) op(B), op = transpose or not, with A and B row-major and contiguous (an
// xt::xtensor always is). k is the inner size; lda and ldb are the row lengths as stored.
Matrix gemm(bool transpose_a, bool transpose_b, const Matrix& a, const Matrix& b, std::size_t n,
            std::size_t k, std::size_t m) {
  use_one_blas_thread();
  if (n == 0 || m == 0 || k == 0)
    return xt::zeros<double>({n, m});     // an empty sum is 0; BLAS would reject ld = 0
  Matrix c = Matrix::from_shape({n, m});  // not zeroed: with beta = 0, dgemm writes every entry of c
  cblas_dgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), 1.0, a.data(),
              static_cast<int>(a.shape(1)), b.data(), static_cast<int>(b.shape(1)), 0.0, c.data(),
              static_cast<int>(m));
  return c;
}

void require_inner(const char* who, const Matrix& a, const Matrix& b, std::size_t ka, std::size_t kb) {
  if (ka != kb) {
    throw std::invalid_argument(
        fmt::format("{}: inner sizes differ, {} and {} ({} vs {})", who, shape_of(a), shape_of(b), ka, kb));
  }
}

}  // namespace

Matrix product(const Matrix& a, const Matrix& b) {
  require_inner("product", a, b, a.shape(1), b.shape(0));
  return gemm(false, false, a, b, a.shape(0), a.shape(1), b.shape(1));
}

Matrix product_tn(const Matrix& a, const Matrix& b) {
  require_inner("product_tn", a, b, a.shape(0), b.shape(0));
  return gemm(true, false, a, b, a.shape(1), a.shape(0), b.shape(1));
}

Matrix product_nt(const Matrix& a, const Matrix& b) {
  require_inner("product_nt", a, b, a.shape(1), b.shape(1));
  return gemm(false, true, a, b, a.shape(0), a.shape(1), b.shape(0));
}

}  // namespace course

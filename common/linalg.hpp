// Matrix products through BLAS (OpenBLAS's dgemm), for the course's own layers: the reference
// solutions, the given code and the training loops of Part II. The same math as chapter 01's loop
// `matmul`, which stays the student's exercise; these ran 7 to 43 times as fast on n x n products,
// n = 64 to 512 (`ch01_tensors --speed` measures it), because dgemm works on cache-sized blocks with
// vector instructions.
//
// One BLAS thread, always: run_program (every chapter program and benchmark), the tests' main() and
// the first product each call use_one_blas_thread(), so a sum is added up in the same order on every
// run and a training run repeats to the last bit (CONTRIBUTING.md, "Products through BLAS").
// Results can differ from the loop matmul in the last bits (dgemm adds the terms in another order),
// and from one CPU to another (OpenBLAS picks its kernel for the CPU it runs on).
#pragma once
#include "tensor.hpp"

namespace course {

// product — C = A B
//   a (n, k), b (k, m)  ->  (n, m)         C[i][j] = Σ_p A[i][p] B[p][j]
Matrix product(const Matrix& a, const Matrix& b);

// product_tn — C = Aᵀ B, without copying the transpose (a backward pass's dW = dYᵀ X)
//   a (k, n), b (k, m)  ->  (n, m)         C[i][j] = Σ_p A[p][i] B[p][j]
Matrix product_tn(const Matrix& a, const Matrix& b);

// product_nt — C = A Bᵀ, without copying the transpose (scores Q Kᵀ, a layer's x Wᵀ)
//   a (n, k), b (m, k)  ->  (n, m)         C[i][j] = Σ_p A[i][p] B[j][p]
Matrix product_nt(const Matrix& a, const Matrix& b);

// Each throws std::invalid_argument when the inner sizes differ.

// Sets OpenBLAS to one thread, the first time it is called in the process (later calls do nothing,
// so a benchmark may still choose its own number of threads afterwards).
void use_one_blas_thread();

}  // namespace course

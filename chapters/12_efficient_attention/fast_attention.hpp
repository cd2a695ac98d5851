// Chapter 12, closer to the machine: the tiled attention of the chapter with the three changes that
// FlashAttention-2 (Dao 2023, "FlashAttention-2: Faster Attention with Better Parallelism and Work
// Partitioning") makes on a GPU, here on a CPU. Used by bench/bench_12_attention.cpp and tested by
// test_fast_attention.cpp beside this file; the student's own tiled_attention (contract.hpp here) is
// the plain-loop version of the same algorithm.
//
//   1. each block's two products are one BLAS call each (dgemm / sgemm), as in the benchmark;
//   2. the exponentials of each block are computed by a polynomial in a plain loop the compiler turns
//      into vector instructions (fast_exp below), instead of one std::exp call per score;
//   3. a float32 path (sgemm, the same polynomial in float): twice the numbers per vector register;
//   4. several threads, each taking a contiguous range of query blocks (FlashAttention-2's split):
//      a query block's output depends on no other query block, so no thread waits for another and
//      nothing is summed across threads. Each block is computed exactly as with one thread, so the
//      output is bitwise the same for any number of threads. The threads are started once and wait
//      for work between calls (run_on_workers below): starting a thread per call cost about 0.6 ms
//      on the course's machine, a sixth of each of two threads' work at n = 1024 in float64.
//
// fast_attention.cpp is compiled on its own (cmake/FastAttention12.cmake) with -O3 -fopenmp-simd, and
// its block kernels are built twice on x86-64 (target_clones: once for AVX2 + FMA, once for the
// baseline SSE2); the CPU picks one when the program starts, so the same binary runs everywhere.
#pragma once
#include "tensor.hpp"

#include <cstddef>
#include <functional>

namespace course {

using MatrixF = xt::xtensor<float, 2>;  // float32 (rows, cols), row-major

struct FastAttentionOptions {
  std::size_t block_size = 256;  // B: queries and keys per block
  bool causal = false;           // query i reads keys 0..i only (needs L == S)
  int threads = 1;               // worker threads, each a contiguous range of query blocks
  bool vector_exp = true;        // fast_exp in a vectorised loop; false: std::exp per score
  bool fresh_each_call = false;  // the first version, kept for the benchmark to compare: a new thread
                                 // per worker and fresh scratch memory on every call (same output)
};

// fast_tiled_attention — softmax(q kᵀ / √d) v, block by block (chapter 12's online softmax), with
// BLAS products per block, vectorised exponentials and opt.threads workers.
//   q (L, d), k (S, d), v (S, d_v)  ->  (L, d_v)
// OpenBLAS must run one thread per call (use_one_blas_thread(), which run_program and the tests' main
// call): the workers are the threads. Throws std::invalid_argument when the shapes do not fit, B is 0,
// threads < 1, or causal with L != S.
Matrix fast_tiled_attention(const Matrix& q, const Matrix& k, const Matrix& v,
                            const FastAttentionOptions& opt);
MatrixF fast_tiled_attention(const MatrixF& q, const MatrixF& k, const MatrixF& v,
                             const FastAttentionOptions& opt);

// run_on_workers — job(t) for t = 0 .. threads − 1 at the same time, job(0) on the calling thread and
// the others on threads started the first time they are needed and kept, waiting, for the next call;
// returns when every job has returned. One caller at a time (a second waits for the first). The jobs
// must not throw, nor call run_on_workers (they would wait for themselves). fast_tiled_attention uses it, and the benchmark for its two-thread peak product.
void run_on_workers(std::size_t threads, const std::function<void(std::size_t)>& job);

// fast_attention_scratch_bytes — the scratch memory every thread that ran fast_tiled_attention keeps
// for the next call (B² + B (d_v + 2) numbers each, a few cache lines more for alignment); the benchmark
// adds it to the memory each call allocates.
std::size_t fast_attention_scratch_bytes();

// fast_exp — e^x for every x[i], in place, by the polynomial fast_attention.cpp explains; within a few
// units in the last place of std::exp for x in [-708, 709] (float: [-87, 88]), exactly 0 below that
// (so e^-inf = 0, a masked score). Exposed for the tests.
void fast_exp(double* x, std::size_t n);
void fast_exp(float* x, std::size_t n);

}  // namespace course

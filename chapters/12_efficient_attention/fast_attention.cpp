// Chapter 12, closer to the machine: tiled attention with BLAS blocks, vectorised exponentials,
// float32 and several threads (see fast_attention.hpp for what each step is for).
//
// Compiled on its own (cmake/FastAttention12.cmake), not with the course's shared precompiled header,
// because it needs its own flags: -O3 (the vectoriser); -fopenmp-simd (the `#pragma omp simd`
// reductions below, and nothing else of OpenMP: no runtime, no threads); -ffp-contract=fast (a · b + c
// as one fused multiply-add where the CPU has it); -fno-trapping-math (so that both sides of the
// `x < -708 ? 0 : y` below may be computed, four lanes at a time; no value changes). No -ffast-math:
// -inf must stay -inf (a masked score).
#include "fast_attention.hpp"

#include <cblas.h>  // Debian's libopenblas-dev: cblas_dgemm, cblas_sgemm
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

// On x86-64, each block kernel is compiled twice, for AVX2 + FMA (x86-64-v3: 4 doubles or 8 floats per
// instruction) and for the baseline (SSE2: 2 doubles or 4 floats), and the CPU picks one when the
// program starts (GCC's function multiversioning). Elsewhere, or with -DCOURSE_NO_CLONES (the library
// fast_attention_12_baseline, so that the baseline is tested on an AVX2 machine too), once, for whatever
// the compiler targets.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(COURSE_NO_CLONES)
#define COURSE_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define COURSE_CLONES
#endif
#define COURSE_INLINE inline __attribute__((always_inline))

namespace course {
namespace {

// ---- 1. e^x as a polynomial, in a loop the compiler can vectorise ----------------------------------
//
// std::exp is a function call per number, with branches for the special cases: the compiler cannot
// turn a loop of them into vector instructions (glibc's vector exp, libmvec, is only used under
// -ffast-math, which would also let the compiler assume that no score is -inf). So we write e^x as
// arithmetic that is the same for every x, and let the loop run over 4 (AVX2) numbers at a time:
//
//   e^x = 2^k · e^r    with k = round(x / ln 2) and r = x − k · ln 2, so |r| <= ln 2 / 2 ≈ 0.35
//   e^r = 1 + r + r²/2! + ... + r^13/13!   (Taylor; the first term left out, r^14/14!, is < 5e-18)
//   2^k is built directly: its bits are (k + 1023) << 52 (the exponent field of a double)
//
// k · ln 2 is subtracted in two pieces (Cody & Waite: ln 2 = ln2_hi + ln2_lo, with ln2_hi's last bits
// zero, so k · ln2_hi is exact), else r would lose digits. round() is done by adding 1.5 · 2^52: the
// sum has no bits below 1, so the hardware rounds x / ln 2 to an integer, and k is in the low bits.
// Below x = -708 we return 0 (e^-708 = 3.3e-308, next to the smallest normal double, 2.2e-308) — also
// for -inf, the masked score, for which the arithmetic above gives garbage that the last line discards.
struct Exp64 {
  static COURSE_INLINE double eval(double x) {
    constexpr double log2e = 1.4426950408889634, ln2_hi = 6.93147180369123816490e-01,
                     ln2_lo = 1.90821492927058770002e-10, shifter = 0x1.8p52;
    const double t = x * log2e + shifter;  // k + 1.5 · 2^52: k in the low bits
    const double kf = t - shifter;         // k, as a double
    const double r = (x - kf * ln2_hi) - kf * ln2_lo;
    double p = 1.0 / 6227020800.0;  // 1/13!
    p = p * r + 1.0 / 479001600.0;  // 1/12!
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;  // e^r
    // k and 2^k's bits, in unsigned arithmetic (wrap-around is defined; for x = -inf the bits are
    // garbage that the last line discards)
    const std::uint64_t shifter_bits = 0x4338000000000000;  // the bits of 1.5 · 2^52
    const std::uint64_t k = __builtin_bit_cast(std::uint64_t, t) - shifter_bits;
    const double two_k = __builtin_bit_cast(double, (k + 1023) << 52);  // 2^k
    double y = p * two_k;
    y = x > 709.0 ? std::numeric_limits<double>::infinity() : y;
    return x < -708.0 ? 0.0 : y;
  }
};

// The same in float: 2^k from (k + 127) << 23; |r| <= 0.35 needs the Taylor terms up to r^7/7! (the
// next, r^8/8!, is < 6e-9, a tenth of float's rounding unit); 0 below x = -87 (under float's smallest
// normal, 1.2e-38).
struct Exp32 {
  static COURSE_INLINE float eval(float x) {
    constexpr float log2e = 1.44269504f, ln2_hi = 6.9314575195e-01f, ln2_lo = 1.4286067653e-06f,
                    shifter = 0x1.8p23f;
    const float t = x * log2e + shifter;
    const float kf = t - shifter;
    const float r = (x - kf * ln2_hi) - kf * ln2_lo;
    float p = 1.0f / 5040.0f;  // 1/7!
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const std::uint32_t shifter_bits = 0x4B400000;  // the bits of 1.5 · 2^23
    const std::uint32_t k = __builtin_bit_cast(std::uint32_t, t) - shifter_bits;
    const float two_k = __builtin_bit_cast(float, (k + 127) << 23);  // 2^k
    float y = p * two_k;
    y = x > 88.0f ? std::numeric_limits<float>::infinity() : y;
    return x < -87.0f ? 0.0f : y;
  }
};

template <class T>
struct ExpOf;
template <>
struct ExpOf<double> {
  using type = Exp64;
};
template <>
struct ExpOf<float> {
  using type = Exp32;
};

template <class T>
COURSE_INLINE void exp_loop(T* x, std::size_t n) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) x[i] = ExpOf<T>::type::eval(x[i]);
}

COURSE_CLONES void exp_kernel(double* x, std::size_t n) {
  exp_loop(x, n);
}
COURSE_CLONES void exp_kernel(float* x, std::size_t n) {
  exp_loop(x, n);
}

// ---- 2. the online softmax update of one block of scores -------------------------------------------
//
// For each row r of s (bq, bk), already scaled by 1/√d (chapter 12's update, on a whole block):
//   m_new = max(m[r], max_j s[r][j]);   s[r][j] = exp(s[r][j] − m_new);   c = exp(m[r] − m_new)
//   l[r] = l[r] · c + Σ_j s[r][j];      acc[r] = acc[r] · c;               m[r] = m_new
// The caller then adds s V_j to acc with one product. vector_exp false: std::exp, one call per score,
// the loop the benchmark started from. The max and the sum are `omp simd` reductions: the vector
// lanes keep partial results that are combined at the end, always in the same order, so the same
// binary gives the same bits on every run.
template <class T>
COURSE_INLINE void softmax_update_rows(T* s, std::size_t bq, std::size_t bk, T* m, T* l, T* acc,
                                       std::size_t dv, bool vector_exp) {
  for (std::size_t r = 0; r < bq; ++r) {
    T* row = s + r * bk;
    T mx = m[r];
#pragma omp simd reduction(max : mx)
    for (std::size_t j = 0; j < bk; ++j) mx = row[j] > mx ? row[j] : mx;
    // a row whose scores so far are all masked (-inf) keeps m = -inf; it contributes nothing yet
    if (mx == -std::numeric_limits<T>::infinity()) {
      for (std::size_t j = 0; j < bk; ++j) row[j] = 0;
      continue;
    }
    T sum = 0;
    if (vector_exp) {
#pragma omp simd reduction(+ : sum)
      for (std::size_t j = 0; j < bk; ++j) {
        row[j] = ExpOf<T>::type::eval(row[j] - mx);
        sum += row[j];
      }
    } else {
      for (std::size_t j = 0; j < bk; ++j) sum += (row[j] = std::exp(row[j] - mx));
    }
    const T rescale = std::exp(m[r] - mx);  // one per row: exp(-inf) = 0 on the first block
    l[r] = l[r] * rescale + sum;
    T* a = acc + r * dv;
#pragma omp simd
    for (std::size_t c = 0; c < dv; ++c) a[c] *= rescale;
    m[r] = mx;
  }
}

COURSE_CLONES void softmax_update(double* s, std::size_t bq, std::size_t bk, double* m, double* l,
                                  double* acc, std::size_t dv, bool vector_exp) {
  softmax_update_rows(s, bq, bk, m, l, acc, dv, vector_exp);
}
COURSE_CLONES void softmax_update(float* s, std::size_t bq, std::size_t bk, float* m, float* l, float* acc,
                                  std::size_t dv, bool vector_exp) {
  softmax_update_rows(s, bq, bk, m, l, acc, dv, vector_exp);
}

// ---- 3. the two products of a block, one BLAS call each --------------------------------------------
//   c (n, m) = alpha · a (n, k) bᵀ (m, k)            (the scores: Q_i K_jᵀ / √d)
//   c (n, m) = a (n, k) b (k, m) + c                  (acc += P_ij V_j)
// Row-major and contiguous; BLAS wants each row length (lda, ldb, ldc) at least 1, even when d = 0.
int ld(std::size_t columns) {
  return static_cast<int>(std::max<std::size_t>(columns, 1));
}
void gemm_nt(std::size_t n, std::size_t m, std::size_t k, double alpha, const double* a, const double* b,
             double* c) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(n), int(m), int(k), alpha, a, ld(k), b, ld(k), 0.0,
              c, ld(m));
}
void gemm_nt(std::size_t n, std::size_t m, std::size_t k, float alpha, const float* a, const float* b,
             float* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(n), int(m), int(k), alpha, a, ld(k), b, ld(k),
              0.0f, c, ld(m));
}
void gemm_nn_add(std::size_t n, std::size_t m, std::size_t k, const double* a, const double* b, double* c) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(m), int(k), 1.0, a, int(k), b, int(m),
              1.0, c, int(m));
}
void gemm_nn_add(std::size_t n, std::size_t m, std::size_t k, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(m), int(k), 1.0f, a, int(k), b, int(m),
              1.0f, c, int(m));
}

// A worker's scratch memory: B² scores, m and l (B), acc (B, d_v), each array on a 64-byte boundary (a
// cache line), so that every worker's vector loops see the same alignment and split their work the
// same way. One per thread (thread_local), kept between calls and grown when a call needs more:
// allocated afresh on every call, its pages came back from the operating system each time, and with
// two threads at n = 512 those page faults made a call take 4.5 ms against 1.9 ms with one thread
// (glibc gives freed memory at the top of its heap back to the system, and asks for it again).
// (opt.fresh_each_call keeps that first version, for the benchmark to compare.) scratch_bytes counts what
// all threads keep (fast_attention_scratch_bytes).
std::atomic<std::size_t> scratch_bytes{0};

template <class T>
class Scratch {
 public:
  // this thread's scratch, with room for blocks of B queries and keys and values of width dv
  static Scratch& of_this_thread(std::size_t B, std::size_t dv) {
    thread_local Scratch scratch;
    scratch.make_room(B, dv);
    return scratch;
  }
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { scratch_bytes -= storage_.size() * sizeof(T); }
  T *s = nullptr, *m = nullptr, *l = nullptr, *acc = nullptr;

  void make_room(std::size_t B, std::size_t dv) {
    if (B <= B_ && dv <= dv_) return;
    B_ = std::max(B, B_);
    dv_ = std::max(dv, dv_);
    constexpr std::size_t line = 64 / sizeof(T);  // numbers per cache line
    const auto lines = [](std::size_t count) { return (count + line - 1) / line * line; };
    const std::size_t sizes[] = {B_ * B_, B_, B_, B_ * dv_};
    std::size_t count = line;  // one line more, to move the start onto a line boundary
    for (std::size_t n : sizes) count += lines(n);
    scratch_bytes += (count - storage_.size()) * sizeof(T);
    storage_.assign(count, T(0));
    void* start = storage_.data();
    std::size_t space = count * sizeof(T);
    T* p = static_cast<T*>(std::align(64, (count - line) * sizeof(T), start, space));
    T** arrays[] = {&s, &m, &l, &acc};
    for (std::size_t i = 0; i < 4; ++i) {
      *arrays[i] = p;
      p += lines(sizes[i]);
    }
  }

 private:
  std::vector<T> storage_;
  std::size_t B_ = 0, dv_ = 0;
};

struct Sizes {
  std::size_t L, S, d, dv, B;
  bool causal, vector_exp;
};

// ---- 4. one block of queries: chapter 12's tiled loop ----------------------------------------------
//   rows q0 .. q0 + bq − 1 of the output (L, d_v), from q (L, d), k (S, d), v (S, d_v)
// Causal: only the key blocks up to the query block's last row; scores of keys after their query are
// set to -inf before the update (only the block on the diagonal has any).
template <class T>
void query_block(const T* q, const T* k, const T* v, T* out, std::size_t q0, const Sizes& z, Scratch<T>& w) {
  const std::size_t bq = std::min(z.B, z.L - q0), key_end = z.causal ? q0 + bq : z.S;
  const T scale = T(1) / std::sqrt(T(z.d));
  T *s = w.s, *m = w.m, *l = w.l, *acc = w.acc;
  std::fill(m, m + bq, -std::numeric_limits<T>::infinity());
  std::fill(l, l + bq, T(0));
  std::fill(acc, acc + bq * z.dv, T(0));
  for (std::size_t k0 = 0; k0 < key_end; k0 += z.B) {
    const std::size_t bk = std::min(z.B, key_end - k0);
    gemm_nt(bq, bk, z.d, scale, q + q0 * z.d, k + k0 * z.d, s);  // s = Q_i K_jᵀ / √d   (bq, bk)
    if (z.causal && k0 + bk > q0 + 1)
      for (std::size_t r = 0; r < bq; ++r)
        for (std::size_t j = 0; j < bk; ++j)
          if (k0 + j > q0 + r) s[r * bk + j] = -std::numeric_limits<T>::infinity();
    softmax_update(s, bq, bk, m, l, acc, z.dv, z.vector_exp);
    gemm_nn_add(bq, z.dv, bk, s, v + k0 * z.dv, acc);  // acc += P_ij V_j   (bq, d_v)
  }
  for (std::size_t r = 0; r < bq; ++r)  // O_i = acc / l (a row with l = 0 saw only masked keys: 0)
    for (std::size_t c = 0; c < z.dv; ++c)
      out[(q0 + r) * z.dv + c] = l[r] > 0 ? acc[r * z.dv + c] / l[r] : T(0);
}

// ---- 5. the workers: contiguous ranges of query blocks (FlashAttention-2's split) -------------------
// Worker t takes blocks first[t] .. first[t + 1] − 1. Without a mask every block costs the same and the
// ranges are equal; with the causal mask block b reads b + 1 key blocks, so the ranges are cut where
// the running total of key blocks crosses t / threads of the whole.
std::vector<std::size_t> split_blocks(std::size_t blocks, std::size_t threads, bool causal) {
  std::vector<double> cost_before(blocks + 1, 0.0);  // cost of blocks 0 .. b − 1
  for (std::size_t b = 0; b < blocks; ++b)
    cost_before[b + 1] = cost_before[b] + (causal ? double(b + 1) : 1.0);
  std::vector<std::size_t> first(threads + 1, blocks);
  first[0] = 0;
  for (std::size_t t = 1; t < threads; ++t) {
    const double target = cost_before[blocks] * double(t) / double(threads);
    std::size_t b = first[t - 1];
    while (b < blocks && cost_before[b] < target) ++b;
    first[t] = b;
  }
  return first;
}

// The team of workers: threads started once and kept. Each helper waits (asleep, on a condition
// variable) until `generation` changes, runs job(its index) if the call wants that many threads, says
// it is done, and waits again. Waking a sleeping thread took about 30 µs on the course's machine;
// starting a new one and waiting for it about 0.6 ms.
class Workers {
 public:
  void run(std::size_t threads, const std::function<void(std::size_t)>& job) {
    std::lock_guard<std::mutex> one_caller(caller_);
    std::unique_lock<std::mutex> lock(mutex_);
    while (helpers_.size() + 1 < threads) {  // helper h runs job(h + 1)
      const std::size_t h = helpers_.size();
      helpers_.emplace_back([this, h] { help(h); });
    }
    job_ = &job;
    threads_ = threads;
    pending_ = threads - 1;
    ++generation_;
    lock.unlock();
    wake_.notify_all();
    job(0);  // the calling thread is worker 0
    lock.lock();
    done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
  }
  ~Workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quit_ = true;
    }
    wake_.notify_all();
    for (std::thread& h : helpers_) h.join();
  }

 private:
  void help(std::size_t h) {
    std::size_t seen = 0;  // the last generation this helper looked at
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return quit_ || generation_ != seen; });
      if (quit_) return;
      seen = generation_;
      if (h + 1 >= threads_) continue;  // this call needs fewer threads
      const std::function<void(std::size_t)>& job = *job_;
      lock.unlock();
      job(h + 1);
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }
  std::mutex caller_;  // one run() at a time
  std::mutex mutex_;   // guards everything below
  std::condition_variable wake_, done_;
  std::vector<std::thread> helpers_;
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::size_t threads_ = 1, pending_ = 0, generation_ = 0;
  bool quit_ = false;
};

template <class T>
xt::xtensor<T, 2> attention(const xt::xtensor<T, 2>& q, const xt::xtensor<T, 2>& k,
                            const xt::xtensor<T, 2>& v, const FastAttentionOptions& opt) {
  const std::size_t L = q.shape(0), S = k.shape(0), d = q.shape(1), dv = v.shape(1);
  if (k.shape(1) != d || v.shape(0) != S)
    throw std::invalid_argument(fmt::format(
        "fast_tiled_attention: q ({}, {}), k ({}, {}) and v ({}, {}) do not fit: k needs d = {} columns "
        "and v one row per key",
        L, d, S, k.shape(1), v.shape(0), dv, d));
  if (opt.block_size == 0)
    throw std::invalid_argument("fast_tiled_attention: the block size must be at least 1");
  if (opt.threads < 1) throw std::invalid_argument("fast_tiled_attention: threads must be at least 1");
  if (opt.causal && L != S)
    throw std::invalid_argument(
        fmt::format("fast_tiled_attention: the causal mask needs as many queries as keys ({} vs {})", L, S));
  xt::xtensor<T, 2> out = xt::zeros<T>({L, dv});
  if (L == 0 || dv == 0 || S == 0) return out;  // no keys: every row sees nothing, 0 as a fully masked row
  const Sizes z{L, S, d, dv, std::min(opt.block_size, std::max(L, S)), opt.causal, opt.vector_exp};
  const std::size_t blocks = (L + z.B - 1) / z.B;
  const std::size_t threads = std::min<std::size_t>(static_cast<std::size_t>(opt.threads), blocks);
  const std::vector<std::size_t> first = split_blocks(blocks, threads, opt.causal);
  const auto blocks_of_worker = [&](std::size_t t, Scratch<T>& scratch) {
    for (std::size_t b = first[t]; b < first[t + 1]; ++b)
      query_block(q.data(), k.data(), v.data(), out.data(), b * z.B, z, scratch);
  };
  if (opt.fresh_each_call) {  // the first version: every worker's scratch allocated here, new threads
    std::vector<Scratch<T>> scratch(threads);
    for (Scratch<T>& w : scratch) w.make_room(z.B, dv);
    std::vector<std::thread> helpers;
    for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(blocks_of_worker, t, std::ref(scratch[t]));
    blocks_of_worker(0, scratch[0]);
    for (std::thread& h : helpers) h.join();
    return out;
  }
  run_on_workers(threads, [&](std::size_t t) { blocks_of_worker(t, Scratch<T>::of_this_thread(z.B, dv)); });
  return out;
}

}  // namespace

void run_on_workers(std::size_t threads, const std::function<void(std::size_t)>& job) {
  if (threads == 0) return;
  if (threads == 1) {
    job(0);
    return;
  }
  static Workers workers;  // started on the first call with two or more threads, joined at exit
  workers.run(threads, job);
}

std::size_t fast_attention_scratch_bytes() {
  return scratch_bytes;
}

Matrix fast_tiled_attention(const Matrix& q, const Matrix& k, const Matrix& v,
                            const FastAttentionOptions& opt) {
  return attention(q, k, v, opt);
}
MatrixF fast_tiled_attention(const MatrixF& q, const MatrixF& k, const MatrixF& v,
                             const FastAttentionOptions& opt) {
  return attention(q, k, v, opt);
}

void fast_exp(double* x, std::size_t n) {
  exp_kernel(x, n);
}
void fast_exp(float* x, std::size_t n) {
  exp_kernel(x, n);
}

}  // namespace course

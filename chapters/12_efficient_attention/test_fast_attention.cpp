// Chapter 12 closer to the machine — tests of fast_tiled_attention and fast_exp
// (chapters/12_efficient_attention/fast_attention.hpp, the benchmark's attention; not the student's
// exercise, so this is its own test program, run by ctest as ch12.fast_attention and, linked with the
// plain x86-64 kernels only, as ch12.fast_attention_baseline).
// Correctness only, never timing: the vectorised exponential against std::exp, the float64 result
// against the naive formula to 1e-12, float32 against float64 within a bound derived from float32's
// rounding unit, 1, 2 and 3 threads bitwise equal, and the team of worker threads.
#include "fast_attention.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace course;

namespace {

// softmax(q kᵀ / √d) v with the whole (L, S) matrix, plain loops and std::exp (chapters 02 and 04);
// causal: query i reads keys 0..i.
Matrix naive(const Matrix& q, const Matrix& k, const Matrix& v, bool causal) {
  const std::size_t L = q.shape(0), S = k.shape(0), d = q.shape(1), dv = v.shape(1);
  Matrix out = xt::zeros<double>({L, dv});
  std::vector<double> p(S);
  for (std::size_t i = 0; i < L; ++i) {
    const std::size_t visible = causal ? i + 1 : S;
    double mx = -INFINITY, sum = 0;
    for (std::size_t j = 0; j < visible; ++j) {
      double s = 0;
      for (std::size_t c = 0; c < d; ++c) s += q(i, c) * k(j, c);
      p[j] = s / std::sqrt(double(d));
      mx = std::max(mx, p[j]);
    }
    for (std::size_t j = 0; j < visible; ++j) sum += (p[j] = std::exp(p[j] - mx));
    for (std::size_t j = 0; j < visible; ++j)
      for (std::size_t c = 0; c < dv; ++c) out(i, c) += p[j] / sum * v(j, c);
  }
  return out;
}

MatrixF to_float(const Matrix& m) {
  return xt::cast<float>(m);
}

bool bitwise_equal(const Matrix& a, const Matrix& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}
bool bitwise_equal(const MatrixF& a, const MatrixF& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Case {
  std::size_t L, S, d, dv, B;
};
// n divisible by B and not, B = 1, B larger than n, L != S, d != d_v
const Case cases[] = {{64, 64, 16, 16, 16},  {100, 100, 8, 12, 32}, {37, 53, 5, 3, 7},
                      {1, 9, 4, 4, 4},       {9, 1, 4, 2, 4},       {50, 50, 16, 16, 1},
                      {70, 70, 64, 64, 256}, {257, 257, 64, 64, 64}};

}  // namespace

TEST_SUITE("given: 12 fast attention") {
  TEST_CASE("fast_exp (float64) is within 4 units in the last place of std::exp on [-708, 709]") {
    std::vector<double> x;
    for (double t = -708; t <= 709; t += 0.0137) x.push_back(t);
    for (double t : {0.0, -0.0, 1e-300, -1e-300, 0.5 * std::log(2.0), -0.5 * std::log(2.0), 1.0, -1.0})
      x.push_back(t);
    std::vector<double> y = x;
    fast_exp(y.data(), y.size());
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double e = std::exp(x[i]);
      worst = std::max(worst, std::abs(y[i] - e) / e);
    }
    CHECK(worst <= 4 * std::numeric_limits<double>::epsilon());
    // e^0 = 1 exactly (r = 0, k = 0)
    double one = 0;
    fast_exp(&one, 1);
    CHECK(one == 1.0);
  }

  TEST_CASE("fast_exp gives exactly 0 for -inf (a masked score) and below the smallest normal") {
    std::vector<double> x = {-INFINITY, -1e300, -745.2, -709.0};
    fast_exp(x.data(), x.size());
    for (double y : x) CHECK(y == 0.0);
    std::vector<float> xf = {-INFINITY, -1e30f, -104.0f, -88.0f};
    fast_exp(xf.data(), xf.size());
    for (float y : xf) CHECK(y == 0.0f);
  }

  TEST_CASE("fast_exp (float32) is within 4 units in the last place of float on [-87, 88]") {
    std::vector<float> x;
    for (float t = -87; t <= 88; t += 0.0137f) x.push_back(t);
    std::vector<float> y = x;
    fast_exp(y.data(), y.size());
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double e = std::exp(double(x[i]));
      worst = std::max(worst, std::abs(double(y[i]) - e) / e);
    }
    CHECK(worst <= 4 * double(std::numeric_limits<float>::epsilon()));
  }

  TEST_CASE("fast_tiled_attention (float64) equals the naive formula to 1e-12, causal and not") {
    Rng rng(1215);
    for (const Case& c : cases) {
      const Matrix q = rng.normal_matrix(c.L, c.d), k = rng.normal_matrix(c.S, c.d),
                   v = rng.normal_matrix(c.S, c.dv);
      for (bool causal : {false, true}) {
        if (causal && c.L != c.S) continue;
        for (bool vector_exp : {true, false}) {
          CAPTURE(c.L);
          CAPTURE(c.S);
          CAPTURE(c.d);
          CAPTURE(c.B);
          CAPTURE(causal);
          CAPTURE(vector_exp);
          FastAttentionOptions opt;
          opt.block_size = c.B;
          opt.causal = causal;
          opt.vector_exp = vector_exp;
          const Matrix fast = fast_tiled_attention(q, k, v, opt);
          REQUIRE_SHAPE(fast, {c.L, c.dv});
          CHECK_CLOSE(fast, naive(q, k, v, causal), 1e-12);
        }
      }
    }
  }

  TEST_CASE("fast_tiled_attention: scores jumping by 1e4 between blocks are rescaled, not NaN") {
    // one query, keys whose scores are 0, 1e4 - 1 and 1e4 in blocks of 1: every block raises the max
    const Matrix q = {{1.0}}, k = {{0.0}, {1e4 - 1}, {1e4}}, v = {{5.0}, {1.0}, {2.0}};
    FastAttentionOptions opt;
    opt.block_size = 1;
    const double e = std::exp(-1.0);
    CHECK_CLOSE(fast_tiled_attention(q, k, v, opt), Matrix({{(1.0 * e + 2.0) / (1 + e)}}), 1e-12);
  }

  TEST_CASE("fast_tiled_attention (float32) equals float64 within a bound from float32's rounding unit") {
    // u = 2^-24, float32's unit roundoff. Each error, as a bound (Higham, "Accuracy and Stability of
    // Numerical Algorithms", 2002, ch. 3: a sum of m products is within γ_m = m u / (1 - m u) of exact,
    // relative to the sum of the absolute terms):
    //   scores: rounding q, k to float (2u) and the d-term dot product (γ_d) move s_ij by at most
    //           δ = (d + 3) u · Σ_c |q_ic| |k_jc| / √d   (+ u for the scaling)
    //   weights: a shift of every score by at most δ moves each softmax weight by a factor within
    //           e^(±2δ), so the output moves by at most (e^(2δ) − 1) · max|v|
    //   the rest: v rounded to float (u), exp (4u, the test above), the sums l and P V over S terms
    //           (γ_S each), the division (u): (S + S + 6) u · max|v|
    // The test asserts the float32 result is within that bound of the float64 one, and that the bound
    // is tight enough to mean something: under 1e-3 here.
    Rng rng(32);
    const double u = std::ldexp(1.0, -24);
    for (const Case& c : cases) {
      const Matrix q = rng.normal_matrix(c.L, c.d), k = rng.normal_matrix(c.S, c.d),
                   v = rng.normal_matrix(c.S, c.dv);
      double dot_abs = 0, v_max = 0;
      for (std::size_t i = 0; i < c.L; ++i)
        for (std::size_t j = 0; j < c.S; ++j) {
          double t = 0;
          for (std::size_t p = 0; p < c.d; ++p) t += std::abs(q(i, p) * k(j, p));
          dot_abs = std::max(dot_abs, t / std::sqrt(double(c.d)));
        }
      for (double x : v) v_max = std::max(v_max, std::abs(x));
      const double delta = (c.d + 4) * u * dot_abs;
      const double bound = (std::expm1(2 * delta) + (2.0 * c.S + 6) * u) * v_max;
      CAPTURE(c.L);
      CAPTURE(c.B);
      CAPTURE(bound);
      CHECK(bound < 1e-3);
      for (bool causal : {false, true}) {
        if (causal && c.L != c.S) continue;
        FastAttentionOptions opt;
        opt.block_size = c.B;
        opt.causal = causal;
        const Matrix f64 = fast_tiled_attention(q, k, v, opt);
        const MatrixF f32 = fast_tiled_attention(to_float(q), to_float(k), to_float(v), opt);
        REQUIRE_SHAPE(f32, {c.L, c.dv});
        CHECK_CLOSE(Matrix(xt::cast<double>(f32)), f64, bound);
      }
    }
  }

  TEST_CASE("fast_tiled_attention: 1, 2 and 3 threads give bitwise the same output, kept or fresh") {
    // Every query block is computed by the same code on the same numbers whichever thread takes it.
    // The last case is large enough (64 blocks, tens of milliseconds) for the threads to run at the same
    // time: workers sharing one scratch buffer (a mutant) gave different outputs there.
    Rng rng(2);
    std::vector<Case> with_large(std::begin(cases), std::end(cases));
    with_large.push_back({2048, 2048, 64, 64, 32});
    for (const Case& c : with_large) {
      const Matrix q = rng.normal_matrix(c.L, c.d), k = rng.normal_matrix(c.S, c.d),
                   v = rng.normal_matrix(c.S, c.dv);
      for (bool causal : {false, true}) {
        if (causal && c.L != c.S) continue;
        CAPTURE(c.L);
        CAPTURE(c.B);
        CAPTURE(causal);
        FastAttentionOptions opt;
        opt.block_size = c.B;
        opt.causal = causal;
        const Matrix one = fast_tiled_attention(q, k, v, opt);
        const MatrixF one_f = fast_tiled_attention(to_float(q), to_float(k), to_float(v), opt);
        for (int threads : {2, 3}) {
          for (bool fresh : {false, true}) {  // the team of workers, and new threads each call
            CAPTURE(threads);
            CAPTURE(fresh);
            opt.threads = threads;
            opt.fresh_each_call = fresh;
            CHECK(bitwise_equal(fast_tiled_attention(q, k, v, opt), one));
            CHECK(bitwise_equal(fast_tiled_attention(to_float(q), to_float(k), to_float(v), opt), one_f));
          }
        }
        opt.fresh_each_call = false;
      }
    }
  }

  TEST_CASE("fast_tiled_attention refuses shapes that do not fit, B = 0, threads = 0, causal with L != S") {
    const Matrix q = xt::ones<double>({4, 3}), k = xt::ones<double>({5, 3}), v = xt::ones<double>({5, 2});
    FastAttentionOptions opt;
    CHECK_THROWS_AS(fast_tiled_attention(q, Matrix(xt::ones<double>({5, 4})), v, opt), std::invalid_argument);
    CHECK_THROWS_AS(fast_tiled_attention(q, k, Matrix(xt::ones<double>({4, 2})), opt), std::invalid_argument);
    opt.block_size = 0;
    CHECK_THROWS_AS(fast_tiled_attention(q, k, v, opt), std::invalid_argument);
    opt.block_size = 2;
    opt.threads = 0;
    CHECK_THROWS_AS(fast_tiled_attention(q, k, v, opt), std::invalid_argument);
    opt.threads = 1;
    opt.causal = true;
    CHECK_THROWS_AS(fast_tiled_attention(q, k, v, opt), std::invalid_argument);
  }
}

TEST_SUITE("given: 12 fast attention's workers") {
  TEST_CASE("run_on_workers runs job(t) once for every t, each on its own thread, call after call") {
    // more threads, fewer, more again: the helpers started for a larger call wait out a smaller one
    for (std::size_t threads : {1, 3, 2, 4, 1, 3}) {
      CAPTURE(threads);
      std::vector<int> runs(threads, 0);
      std::vector<std::thread::id> ids(threads);
      std::mutex mutex;
      run_on_workers(threads, [&](std::size_t t) {
        std::lock_guard<std::mutex> lock(mutex);
        ++runs[t];
        ids[t] = std::this_thread::get_id();
      });
      for (std::size_t t = 0; t < threads; ++t) CHECK(runs[t] == 1);
      CHECK(ids[0] == std::this_thread::get_id());  // worker 0 is the caller
      std::sort(ids.begin(), ids.end());
      CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());  // all different
    }
  }

  TEST_CASE("run_on_workers returns only when every job has returned") {
    std::atomic<int> finished{0};
    run_on_workers(3, [&](std::size_t t) {
      std::this_thread::sleep_for(std::chrono::milliseconds(t == 2 ? 50 : 0));
      ++finished;
    });
    CHECK(finished == 3);
  }

  TEST_CASE("two callers at once: one call at a time, each gets its own answer") {
    Rng rng(7);
    const Matrix q = rng.normal_matrix(300, 8), k = rng.normal_matrix(300, 8), v = rng.normal_matrix(300, 8);
    FastAttentionOptions opt;
    opt.block_size = 16;
    const Matrix expected = fast_tiled_attention(q, k, v, opt);
    opt.threads = 2;
    Matrix a, b;
    std::thread other([&] { a = fast_tiled_attention(q, k, v, opt); });
    b = fast_tiled_attention(q, k, v, opt);
    other.join();
    CHECK(bitwise_equal(a, expected));
    CHECK(bitwise_equal(b, expected));
  }
}

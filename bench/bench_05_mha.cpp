// Benchmark of chapter 05: the reference multi-head attention forward, on BLAS products (the course's
// product(), common/linalg.hpp) and on chapter 01's loop matmul (the same algorithm, as the reference
// ran before its products went through BLAS), float64, one BLAS thread.
//
//   build/bin/bench_05_mha [--length N] [--d-model E] [--heads H] [--repeats R] [--loop] [--save DIR]
//
// Times `multi_head_attention(query, key, value, w, H, no_mask(N, N))` with L = S = N (default 1024,
// E = 512, 8 heads: the sizes of the issue "Part II begins"). Inputs are N(0, 1), weights drawn like
// torch.nn.MultiheadAttention's. One forward first, untimed (it touches the memory), then R timed
// ones, then R runs of the forward's products alone (same shapes, nothing else); with --loop, R
// forwards of the loop version. Prints one line per timing, "blas WALL CPU", "products WALL CPU" or
// "loop WALL CPU" (seconds on the clock, seconds of processor time), for tools/bench_05.sh, which
// alternates this program with tools/bench_05_pytorch.py (the same forward in PyTorch 1.13) over
// several rounds and reports the medians and their ratio.
// --save DIR writes the inputs, the weights and the output under PyTorch's names, so the script can
// check that PyTorch computes the same numbers before it times anything.
//
// Not a test: timings depend on the machine and its load. Compare the columns of one run.
#include "05_multi_head_attention/given.hpp"  // multi_head_attention, random_multi_head_weights, no_mask
#include "cli.hpp"
#include "linalg.hpp"  // product, product_nt
#include "npy.hpp"
#include "rng.hpp"

#include <chrono>
#include <ctime>
#include <vector>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int length = 1024, d_model = 512, heads = 8, repeats = 3;
  bool loop = false;
};

// One forward, in multiply-adds: the four projections (4 N E²) and, per head, Q Kᵀ and P V
// (2 N² E over all heads), the same for both versions.
double forward_multiply_adds(const Options& opt) {
  const double N = opt.length, E = opt.d_model;
  return 4.0 * N * E * E + 2.0 * N * N * E;
}

// What a run needs: inputs, weights, Q, K, V and their heads, the (H, N, N) weights and a few (N, N)
// matrices of one head alive at once; the work: R + 1 forwards on BLAS, R on loops with --loop, and
// H N² exponentials per forward.
Cost cost_of(const Options& opt) {
  const double N = opt.length, E = opt.d_model, H = opt.heads;
  // (and first, print_first_touch's 256 MiB buffer, freed before the forwards start)
  const double bytes =
      std::max(8.0 * (12.0 * N * E + 4.0 * E * E + H * N * N + 4.0 * N * N), 256.0 * 1024 * 1024);
  const double exps = H * N * N * math_call;
  double work = (opt.repeats + 1.0) * (forward_multiply_adds(opt) * blas_multiply_add + exps);
  if (opt.loop) work += opt.repeats * (forward_multiply_adds(opt) + exps);
  return {bytes, work};
}

// --- the loop version: chapter 05's reference as it was, on chapter 01's matmul ---------------------

// y = x Wᵀ + b, with Wᵀ copied and multiplied by the loops of chapter 01
Matrix linear_loop(const Matrix& x, const Matrix& w, const Vector& b) {
  const Matrix w_t = xt::transpose(w);
  Matrix y = matmul(x, w_t);
  for (std::size_t i = 0; i < y.shape(0); ++i)
    for (std::size_t j = 0; j < y.shape(1); ++j) y(i, j) += b(j);
  return y;
}

// softmax(q kᵀ / √d) v of one head, unmasked, on matmul
AttentionResult attention_loop(const Matrix& q, const Matrix& k, const Matrix& v) {
  const Matrix k_t = xt::transpose(k);
  const Matrix scores = matmul(q, k_t) / std::sqrt(static_cast<double>(q.shape(1)));
  Matrix weights = softmax_rows(scores);
  Matrix output = matmul(weights, v);
  return {output, weights};
}

MultiHeadResult multi_head_attention_loop(const Matrix& query, const Matrix& key, const Matrix& value,
                                          const MultiHeadWeights& w, std::size_t H) {
  const std::size_t L = query.shape(0), S = key.shape(0), E = query.shape(1), d = E / H;
  const auto rows = [&](std::size_t first) -> Matrix {
    return xt::view(w.in_proj_weight, xt::range(first, first + E), xt::all());
  };
  const auto entries = [&](std::size_t first) -> Vector {
    return xt::view(w.in_proj_bias, xt::range(first, first + E));
  };
  const Tensor3 q = split_heads(linear_loop(query, rows(0), entries(0)), H);
  const Tensor3 k = split_heads(linear_loop(key, rows(E), entries(E)), H);
  const Tensor3 v = split_heads(linear_loop(value, rows(2 * E), entries(2 * E)), H);
  Tensor3 outputs = Tensor3::from_shape({H, L, d});
  Tensor3 weights = Tensor3::from_shape({H, L, S});
  for (std::size_t h = 0; h < H; ++h) {
    const Matrix q_h = xt::view(q, h, xt::all(), xt::all());
    const Matrix k_h = xt::view(k, h, xt::all(), xt::all());
    const Matrix v_h = xt::view(v, h, xt::all(), xt::all());
    const AttentionResult r = attention_loop(q_h, k_h, v_h);
    xt::view(outputs, h, xt::all(), xt::all()) = r.output;
    xt::view(weights, h, xt::all(), xt::all()) = r.weights;
  }
  return {linear_loop(merge_heads(outputs), w.out_proj_weight, w.out_proj_bias), weights};
}

// --- the products alone ---------------------------------------------------------------------------------

// The forward's products and nothing else, on the same shapes, through the same product_nt / product:
// the four projections x Wᵀ and, per head, Q_h K_hᵀ and P_h V_h. The difference from the whole forward
// is what the rest costs: the biases, splitting and merging heads, the softmax, and the memory the
// reference allocates and copies (its (H, L, S) weights above all).
double products_only(const Matrix& query, const Matrix& key, const Matrix& value, const MultiHeadWeights& w,
                     std::size_t H) {
  const std::size_t E = query.shape(1), d = E / H;
  const Matrix w_q = xt::view(w.in_proj_weight, xt::range(0, E), xt::all());
  const Matrix w_k = xt::view(w.in_proj_weight, xt::range(E, 2 * E), xt::all());
  const Matrix w_v = xt::view(w.in_proj_weight, xt::range(2 * E, 3 * E), xt::all());
  const Matrix q_h = xt::view(query, xt::all(), xt::range(0, d));  // inputs of one head's shapes
  const Matrix k_h = xt::view(key, xt::all(), xt::range(0, d));
  const Matrix v_h = xt::view(value, xt::all(), xt::range(0, d));
  double checksum = 0;  // used, so that no product is left out
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  checksum += product_nt(query, w_q)(0, 0) + product_nt(key, w_k)(0, 0) + product_nt(value, w_v)(0, 0);
  for (std::size_t h = 0; h < H; ++h) {
    const Matrix scores = product_nt(q_h, k_h);
    checksum += product(scores, v_h)(0, 0);
  }
  checksum += product_nt(query, w.out_proj_weight)(0, 0);
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;
  fmt::print("products {:.4f} {:.4f}\n", wall.count(), cpu);
  return checksum;
}

// ------------------------------------------------------------------------------------------------------

// What writing to memory costs the first time (the system maps each fresh 4 KiB page as it is touched)
// and the second time, per page, on a 256 MiB buffer: a forward that fills fresh matrices pays the
// first price for every page of them.
void print_first_touch() {
  const std::size_t bytes = std::size_t{256} << 20, pages = bytes / 4096;
  const auto start = std::chrono::steady_clock::now();
  std::vector<unsigned char> buffer(bytes, 1);  // allocated and written once: every page fresh
  const auto middle = std::chrono::steady_clock::now();
  std::fill(buffer.begin(), buffer.end(), 2);  // written again
  const auto end = std::chrono::steady_clock::now();
  const std::chrono::duration<double, std::micro> first = middle - start, again = end - middle;
  fmt::print("# writing fresh memory: {:.2f} us per 4 KiB page the first time, {:.2f} us the second{}\n",
             first.count() / pages, again.count() / pages, buffer[bytes / 2] == 2 ? "" : " (?)");
}

// "WALL CPU": the seconds f took on the clock and the processor time this process used meanwhile
// (user + system, all its threads: one here). On a busy machine the wall time grows with the other
// work; the processor time much less.
template <class F>
std::string seconds_of(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  f();
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;
  return fmt::format("{:.4f} {:.4f}", wall.count(), cpu);
}

int run(const Options& opt) {
  if (opt.d_model % opt.heads != 0)
    throw usage_error(fmt::format("--heads {} does not divide --d-model {}", opt.heads, opt.d_model));
  require_within_limits(cost_of(opt),
                        fmt::format("--length {} --d-model {} --heads {} --repeats {}{}", opt.length,
                                    opt.d_model, opt.heads, opt.repeats, opt.loop ? " --loop" : ""),
                        benchmark_limits);
  const std::size_t N = opt.length, E = opt.d_model, H = opt.heads;
  fmt::print("# bench_05_mha: L = S = {}, E = {}, {} heads, float64, 1 BLAS thread, {:.2e} multiply-adds\n",
             N, E, H, forward_multiply_adds(opt));
  print_first_touch();
  Rng rng(opt.common.seed);
  const Matrix query = rng.normal_matrix(N, E), key = rng.normal_matrix(N, E),
               value = rng.normal_matrix(N, E);
  const MultiHeadWeights w = random_multi_head_weights(rng, E);
  const BoolMatrix mask = no_mask(N, N);

  MultiHeadResult blas = multi_head_attention(query, key, value, w, H, mask);  // untimed: touches memory
  if (!opt.common.save_dir.empty()) {
    const std::string& dir = opt.common.save_dir;
    save_npy(dir, "query", query);
    save_npy(dir, "key", key);
    save_npy(dir, "value", value);
    save_npy(dir, "in_proj_weight", w.in_proj_weight);
    save_npy(dir, "in_proj_bias", w.in_proj_bias);
    save_npy(dir, "out_proj.weight", w.out_proj_weight);
    save_npy(dir, "out_proj.bias", w.out_proj_bias);
    save_npy(dir, "attn_output", blas.output);
  }
  for (int r = 0; r < opt.repeats; ++r) {
    fmt::print("blas {}\n", seconds_of([&] { blas = multi_head_attention(query, key, value, w, H, mask); }));
    std::fflush(stdout);
  }
  double checksum = 0;
  for (int r = 0; r < opt.repeats; ++r) checksum += products_only(query, key, value, w, H);
  if (!std::isfinite(checksum)) return 1;
  if (opt.loop) {
    MultiHeadResult loop;
    for (int r = 0; r < opt.repeats; ++r) {
      fmt::print("loop {}\n", seconds_of([&] { loop = multi_head_attention_loop(query, key, value, w, H); }));
      std::fflush(stdout);
    }
    // the same algorithm, so the same numbers up to the order of the sums
    const double difference =
        std::max(max_abs_diff(loop.output, blas.output), max_abs_diff(loop.weights, blas.weights));
    fmt::print("# max |loop - blas| over output and weights: {:.1e}\n", difference);
    if (!(difference < 1e-9)) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 05 benchmark: the multi-head attention forward on BLAS and on loops", "bench_05_mha"};
  Options opt;
  const auto largest = [](int Options::*flag) {
    return largest_within_limits(flag, cost_of, 1, 1 << 30, benchmark_limits);
  };
  add_size_option(app, "--length", opt.length, "L = S, the tokens of query, key and value",
                  largest(&Options::length));
  add_size_option(app, "--d-model", opt.d_model, "E, the model width", largest(&Options::d_model));
  add_size_option(app, "--heads", opt.heads, "Heads (must divide --d-model)", largest(&Options::heads));
  add_size_option(app, "--repeats", opt.repeats, "Timed forwards of each version",
                  largest(&Options::repeats));
  app.add_flag("--loop", opt.loop, "Also time the loop version (chapter 01's matmul)");
  add_common_options(app, opt.common, /*interop=*/false);
  app.add_option("--save", opt.common.save_dir, "Write the inputs, weights and output as .npy here")
      ->type_name("DIR");
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

// Chapter 07 — positional encoding: without positions 你不能不吃饭 and 不你不能吃饭 get the same per-token
// outputs; sinusoidal encoding, PE(p+k) as a fixed rotation of PE(p); a learned table; rotary
// encoding (RoPE), whose scores depend only on the offset between positions.
//
//   build/bin/ch07_positional_encoding [--seq-len L] [--d-model D] [--seed S] [--svg DIR] [--save DIR]
// --save DIR writes pe.npy (L, D), the sinusoidal encoding of Vaswani et al. (2017).
//
// Sections: 1. order blindness, 2. the sinusoidal encoding, 3. PE(p + k) as a rotation of PE(p),
// 4. a learned table, 5. RoPE. Each section computes into a struct (compute_*); run() computes them
// all, saves pe.npy, then prints and draws from them (show_*); self_checks() checks the claims from
// those structs.
#include "03_self_attention/contract.hpp"
#include "07_positional_encoding/given.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "results.hpp"
#include "rng.hpp"

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int seq_len = 32;  // L, positions in the encoding shown and saved
  int d_model = 16;  // D, even
};

// One embedding per character; the two sentences use the same five characters.
const Labels kVocabulary = {"你", "不", "能", "吃", "饭"};
const Labels kSentenceA = {"你", "不", "能", "不", "吃", "饭"};  // you cannot not eat: you must eat
const Labels kSentenceB = {"不", "你", "不", "能", "吃", "饭"};  // a scramble of the same characters

// What a run needs, estimated from its sizes before it starts. Alive at the peak: the (L, D) encoding
// (counted twice, a margin), W_q, W_k, W_v and a rotation (D, D) with copies, and 200 positions of
// section 3. The work (the cost constants are in cli.hpp): drawing the weights, the four
// self-attentions (72 D² multiply-adds), section 3's rotations (674 D²), the sinusoidal rows computed
// into fresh memory (L, plus 667 in sections 3 and 5: a pow and a sin or cos each) and, with --svg, up
// to 64 rows of the encoding drawn.
Cost cost_of(const Options& opt) {
  const double L = opt.seq_len, D = opt.d_model;
  const double rows = L + 667.0;
  const double figure = Figures(opt.common).enabled() ? std::min(L, 64.0) * D * svg_cell : 0.0;
  return {8.0 * (2.0 * L * D + 5.0 * D * D + 200.0 * D),
          D * D * (3.0 * (normal_draw + fresh_double) + 750.0) + rows * D * (2.0 * math_call + fresh_double) +
              figure};
}

// The flags, each setting a field of Options (the sizes up to what fits the limits, cost_of).
void add_flags(CLI::App& app, Options& opt) {
  add_size_flag(app, "--seq-len", opt, &Options::seq_len, "Positions L in the encoding shown and saved",
                cost_of);
  add_size_flag(app, "--d-model", opt, &Options::d_model, "Width D of the encoding (even)", cost_of);
  add_common_options(app, opt.common, /*interop=*/false);
  app.add_option("--save", opt.common.save_dir, "Write pe.npy (L, D), the sinusoidal encoding, to DIR")
      ->type_name("DIR");
}

// The flags' rules that a size range cannot say, and the cost limit; a usage_error (exit 2) if one fails.
void check_flags(const Options& opt) {
  if (opt.d_model % 2 != 0)
    throw usage_error(
        fmt::format("--d-model {} is odd; sinusoidal encoding and RoPE pair up the dimensions, so "
                    "it must be even",
                    opt.d_model));
  require_within_limits(cost_of(opt), fmt::format("--seq-len {} --d-model {}", opt.seq_len, opt.d_model));
}

// 1. Order blindness: the two sentences through the same self-attention (chapter 03), without and
// with sinusoidal positions added to the embeddings.

// The position of `character` in kVocabulary (every character of the two sentences is in it).
std::size_t vocabulary_id(const std::string& character) {
  std::size_t id = 0;
  while (kVocabulary[id] != character) ++id;
  return id;
}

// embed — one row of the table per character:  x[i] = table[id of sentence[i]]   -> (n, D)
Matrix embed(const Labels& sentence, const Matrix& table) {
  Matrix x = Matrix::from_shape({sentence.size(), table.shape(1)});
  for (std::size_t i = 0; i < sentence.size(); ++i) {
    const std::size_t id = vocabulary_id(sentence[i]);
    for (std::size_t c = 0; c < table.shape(1); ++c) x(i, c) = table(id, c);
  }
  return x;
}

// max over c of |a[i][c] - b[j][c]|: how far row i of a is from row j of b.
double row_difference(const Matrix& a, std::size_t i, const Matrix& b, std::size_t j) {
  double worst = 0;
  for (std::size_t c = 0; c < a.shape(1); ++c) worst = std::max(worst, std::abs(a(i, c) - b(j, c)));
  return worst;
}

// For each token of A, how far its output is from the output of the same character in B (for 不,
// which occurs twice, from the closer of B's two 不).
std::vector<double> per_token_differences(const Matrix& out_a, const Matrix& out_b) {
  std::vector<double> diffs;
  for (std::size_t i = 0; i < kSentenceA.size(); ++i) {
    double best = INFINITY;
    for (std::size_t j = 0; j < kSentenceB.size(); ++j)
      if (kSentenceB[j] == kSentenceA[i]) best = std::min(best, row_difference(out_a, i, out_b, j));
    diffs.push_back(best);
  }
  return diffs;
}

struct OrderResult {
  std::size_t d_model = 0;
  std::vector<double> without;  // per token of A: |out_A - out_B| with x = the embeddings alone
  std::vector<double> with;     // the same with x = the embeddings + PE
};

OrderResult compute_order(const Options& opt, Rng& rng) {
  const std::size_t D = opt.d_model;
  const Matrix table = rng.normal_matrix(kVocabulary.size(), D);
  const double a = 1.0 / std::sqrt(static_cast<double>(D));  // weights N(0, 1/D)
  const Matrix w_q = a * rng.normal_matrix(D, D);
  const Matrix w_k = a * rng.normal_matrix(D, D);
  const Matrix w_v = a * rng.normal_matrix(D, D);
  const Matrix xa = embed(kSentenceA, table), xb = embed(kSentenceB, table);
  const Matrix pe = sinusoidal_encoding(kSentenceA.size(), D);
  const Matrix pa = xa + pe, pb = xb + pe;
  OrderResult r;
  r.d_model = D;
  r.without = per_token_differences(self_attention(xa, w_q, w_k, w_v).output,
                                    self_attention(xb, w_q, w_k, w_v).output);
  r.with = per_token_differences(self_attention(pa, w_q, w_k, w_v).output,
                                 self_attention(pb, w_q, w_k, w_v).output);
  return r;
}

void show_order(const OrderResult& r) {
  print_section("1. Without positions, word order is invisible");
  fmt::print(
      "A = 你 不 能 不 吃 饭 (you cannot not eat: you must eat)\n"
      "B = 不 你 不 能 吃 饭 (the same six characters, scrambled)\n"
      "Same embeddings, same self-attention weights (chapter 03), d_model = {}.\n\n",
      r.d_model);
  fmt::print("{:<10} {:>30} {:>30}\n", "token of A", "|out_A - out_B|, no positions",
             "with sinusoidal positions");
  for (std::size_t i = 0; i < kSentenceA.size(); ++i)
    fmt::print("{} {:>30.1e} {:>30.4f}\n", pad_right(fmt::format("{} (#{})", kSentenceA[i], i), 10),
               r.without[i], r.with[i]);
  fmt::print(
      "\nWithout positions each character gets the same output in both sentences (differences are\n"
      "rounding): A and B are the same set of tokens, and self-attention is permutation-equivariant.\n"
      "Even the two 不 of A get identical outputs. With x + PE, every output differs.\n");
}

// 2. The sinusoidal encoding (Vaswani et al. 2017, section 3.5), L positions x D dimensions:
//   PE[p][2i] = sin(p omega_i),  PE[p][2i+1] = cos(p omega_i),  omega_i = 1 / 10000^(2i/D)
struct SinusoidalResult {
  Matrix pe;                 // (L, D)
  double slowest_omega = 0;  // omega of the last pair, i = D/2 - 1: 1 / 10000^((D - 2)/D)
};

SinusoidalResult compute_sinusoidal(const Options& opt) {
  SinusoidalResult r;
  r.pe = sinusoidal_encoding(opt.seq_len, opt.d_model);
  r.slowest_omega = 1.0 / std::pow(10000.0, (opt.d_model - 2.0) / opt.d_model);
  return r;
}

void show_sinusoidal(const SinusoidalResult& r, Figures& figures) {
  print_section("2. Sinusoidal encoding: PE[p][2i] = sin(p / 10000^(2i/D)), PE[p][2i+1] = cos(...)");
  const std::size_t L = r.pe.shape(0), D = r.pe.shape(1);
  const std::size_t rows = std::min<std::size_t>(L, 8), cols = std::min<std::size_t>(D, 8);
  Labels col_labels;  // sin0 cos0 sin1 cos1 ...
  for (std::size_t c = 0; c < cols; ++c)
    col_labels.push_back(fmt::format("{}{}", c % 2 == 0 ? "sin" : "cos", c / 2));
  print_matrix(fmt::format("PE, the first {} positions and {} columns of ({}, {})", rows, cols, L, D),
               Matrix(xt::view(r.pe, xt::range(0, rows), xt::range(0, cols))), numbered("p=", rows),
               col_labels, 3);
  fmt::print(
      "Each column pair is a clock hand: pair 0 turns 1 radian per position, pair i turns\n"
      "1/10000^(2i/D) radians — the last pair of D = {} turns {:.2e}. Every position gets a\n"
      "different pattern, and every entry lies in [-1, 1].\n",
      D, r.slowest_omega);
  const std::size_t drawn = std::min<std::size_t>(L, 64);
  figures.heatmap(
      "07-sinusoidal.svg", Matrix(xt::view(r.pe, xt::range(0, drawn), xt::all())),
      heatmap_spec(fmt::format("Sinusoidal positional encoding, {} positions x {} dimensions", drawn, D), {},
                   {}, "position p", "dimension (sin, cos pairs)")
          .with_range(-1, 1)
          .with_decimals(-1));
}

// 3. PE(p + k) = R_k PE(p), with R_k = rotation(D, k) (given code) the same for every p, checked on
// 200 positions for a few offsets k:
//   error(k) = max over p < 200 - k and a < D of |PE(p + k)[a] - sum_b R_k[a][b] PE(p)[b]|
struct RotationResult {
  std::vector<std::size_t> offsets;  // k
  std::vector<double> errors;        // error(k), one per offset
};

RotationResult compute_rotation(const Options& opt) {
  const std::size_t D = opt.d_model, L = 200;
  const Matrix pe = sinusoidal_encoding(L, D);
  RotationResult r;
  r.offsets = {1, 5, 20, 100};
  for (std::size_t k : r.offsets) {
    const Matrix R = rotation(D, static_cast<double>(k));
    double error = 0;
    for (std::size_t p = 0; p + k < L; ++p)
      for (std::size_t a = 0; a < D; ++a) {
        double turned = 0;  // (R_k PE(p))[a]
        for (std::size_t b = 0; b < D; ++b) turned += R(a, b) * pe(p, b);
        error = std::max(error, std::abs(turned - pe(p + k, a)));
      }
    r.errors.push_back(error);
  }
  return r;
}

void show_rotation(const RotationResult& r) {
  print_section("3. PE(p + k) is a fixed rotation of PE(p)");
  fmt::print(
      "sin(a + b) = sin a cos b + cos a sin b and cos(a + b) = cos a cos b - sin a sin b: each pair\n"
      "(sin, cos) at p + k is the pair at p turned by k omega_i. R_k is block-diagonal and does not\n"
      "depend on p, so 'k positions further' is a linear map a layer can learn.\n\n");
  fmt::print("{:>4}  {:>40}\n", "k", "max over p of |PE(p + k) - R_k PE(p)|");
  for (std::size_t i = 0; i < r.offsets.size(); ++i)
    fmt::print("{:>4}  {:>40.1e}\n", r.offsets[i], r.errors[i]);
}

// 4. A learned table: one trainable row per position, (max_len, D), initialised N(0, 0.02²).
struct LearnedResult {
  std::size_t max_len = 8;
  Matrix table;  // (max_len, D)
};

LearnedResult compute_learned(const Options& opt, Rng& rng) {
  LearnedResult r;
  r.table = 0.02 * rng.normal_matrix(r.max_len, opt.d_model);
  return r;
}

void show_learned(const LearnedResult& r) {
  print_section("4. A learned table");
  const std::size_t D = r.table.shape(1);
  fmt::print(
      "Instead of a formula, a (max_len, D) = ({}, {}) parameter matrix, initialised small (N(0, 0.02²)\n"
      "here, BERT's scale; OpenAI's GPT-2 code uses 0.01) and trained with the rest: position p gets\n"
      "row p. That is {} more parameters, and it learns whatever the data needs. But there is no row {}:\n"
      "a sequence longer than max_len cannot be encoded at all, whereas sin and cos exist for every p.\n",
      r.max_len, D, r.max_len * D, r.max_len);
  print_vector("row 3 (position 3), first 4 values", Vector(xt::view(r.table, 3, xt::range(0, 4))), {}, 4);
}

// 5. RoPE (Su et al. 2021): rotate the query at position m by m theta_i and the key at n by n theta_i,
// pair by pair; then q_m . k_n = q . R_(n-m) k depends on n - m only. Against it, sinusoidal PE
// added to the same q and k: (q + PE(m)) . (k + PE(n)), which depends on m and n themselves.
struct RopeRow {
  std::size_t m = 0, n = 0;  // the query's and the key's positions, n = m - 3
  double rope = 0;           // apply_rope(q, m) . apply_rope(k, n)
  double additive = 0;       // (q + PE(m)) . (k + PE(n))
};

struct RopeResult {
  std::vector<RopeRow> rows;
  double spread = 0;  // max over rows of |rope - the first row's rope|
};

// apply_rope(q, m) . apply_rope(k, n), for q and k of shape (1, D)
double rope_score(const Matrix& q, const Matrix& k, std::size_t m, std::size_t n) {
  const Matrix qm = apply_rope(q, m), kn = apply_rope(k, n);
  double s = 0;
  for (std::size_t c = 0; c < q.shape(1); ++c) s += qm(0, c) * kn(0, c);
  return s;
}

// (q + PE(m)) . (k + PE(n)), for q and k of shape (1, D)
double additive_score(const Matrix& q, const Matrix& k, std::size_t m, std::size_t n) {
  const Matrix pe = sinusoidal_encoding(std::max(m, n) + 1, q.shape(1));  // positions 0..max(m, n)
  double s = 0;
  for (std::size_t c = 0; c < q.shape(1); ++c) s += (q(0, c) + pe(m, c)) * (k(0, c) + pe(n, c));
  return s;
}

RopeResult compute_rope(const Options& opt, Rng& rng) {
  const std::size_t D = opt.d_model;
  const Matrix q = rng.normal_matrix(1, D);
  const Matrix k = rng.normal_matrix(1, D);
  RopeResult r;
  for (std::size_t m : {3, 10, 50, 400}) {
    RopeRow row;
    row.m = m;
    row.n = m - 3;
    row.rope = rope_score(q, k, row.m, row.n);
    row.additive = additive_score(q, k, row.m, row.n);
    r.rows.push_back(row);
  }
  for (const RopeRow& row : r.rows) r.spread = std::max(r.spread, std::abs(row.rope - r.rows.front().rope));
  return r;
}

void show_rope(const RopeResult& r) {
  print_section("5. Rotary encoding (RoPE): scores that depend only on the offset");
  fmt::print(
      "RoPE rotates each feature pair of q at position m by m theta_i and of k at n by n theta_i, so\n"
      "q_m . k_n = q . R_(n-m) k depends on n - m only. Same q and k at several positions, offset 3:\n\n");
  fmt::print("{:>5} {:>5} {:>14} {:>24}\n", "m", "n", "RoPE score", "q + PE(m), k + PE(n)");
  for (const RopeRow& row : r.rows)
    fmt::print("{:>5} {:>5} {:>14.10f} {:>24.6f}\n", row.m, row.n, row.rope, row.additive);
  fmt::print(
      "\nThe RoPE column is the same for every pair (differences {:.1e}); adding sinusoidal PE to\n"
      "q and k gives a score that also depends on where the pair sits. RoPE is what LLaMA and most\n"
      "recent models use. It also keeps lengths: rotations do not change |q| or |k|.\n",
      r.spread);
}

// The closing self-checks: every claim of the walkthrough, from the numbers it computed.
int self_checks(const OrderResult& order, const RotationResult& rotations, const RopeResult& rope) {
  print_section("Self-checks");
  SelfChecks checks;
  double largest_without = 0, smallest_with = INFINITY;
  for (double d : order.without) largest_without = std::max(largest_without, d);
  for (double d : order.with) smallest_with = std::min(smallest_with, d);
  checks.close("no positions: each token's output is the same in both sentences", largest_without, 1e-12);
  checks.expect("with positions: every token's output differs", smallest_with > 1e-3,
                fmt::format("smallest difference {:.4f}", smallest_with));
  double rotation_error = 0;
  for (double e : rotations.errors) rotation_error = std::max(rotation_error, e);
  checks.close("PE(p + k) = R_k PE(p)", rotation_error, 1e-10);
  checks.close("RoPE scores depend only on the offset", rope.spread, 1e-10);
  return checks.exit_code();
}

int run(const Options& opt) {
  check_flags(opt);
  // Every section computed first, so that --save writes pe.npy (or fails) before anything is printed.
  Rng rng(opt.common.seed);
  const OrderResult order = compute_order(opt, rng);
  const SinusoidalResult sinusoidal = compute_sinusoidal(opt);
  const RotationResult rotations = compute_rotation(opt);
  const LearnedResult learned = compute_learned(opt, rng);
  const RopeResult rope = compute_rope(opt, rng);

  print_title("Chapter 07 · Positional encoding");
  print_config("sentences", "你不能不吃饭 and 不你不能吃饭 (6 characters each)");
  print_config("sizes",
               fmt::format("L = {} positions (--seq-len), D = {} (--d-model)", opt.seq_len, opt.d_model));
  print_config("seed", std::to_string(opt.common.seed));
  Figures figures(opt.common);
  show_order(order);
  show_sinusoidal(sinusoidal, figures);
  show_rotation(rotations);
  show_learned(learned);
  show_rope(rope);
  if (!opt.common.save_dir.empty()) report_results({named_result("pe", sinusoidal.pe)}, opt.common.save_dir);
  const int status = self_checks(order, rotations, rope);
  figures.report();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 07: positional encoding: sinusoidal, learned and rotary", "ch07_positional_encoding"};
  Options opt;
  add_flags(app, opt);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

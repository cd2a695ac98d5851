// Chapter 07 — positional encoding: without positions 你不能不吃饭 and 不你不能吃饭 get the same per-token
// outputs; sinusoidal encoding, PE(p+k) as a fixed rotation of PE(p); a learned table; rotary
// encoding (RoPE), whose scores depend only on the offset between positions.
//
//   build/bin/ch07_positional_encoding [--seq-len L] [--d-model D] [--seed S] [--svg DIR] [--save DIR]
// --save DIR writes pe.npy (L, D), the sinusoidal encoding of Vaswani et al. (2017).
#include "cli.hpp"
#include "contracts/03_self_attention.hpp"
#include "given/07_positional_encoding.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "rng.hpp"
#include "svg.hpp"

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
// (twice with --save), W_q, W_k, W_v and a rotation (D, D) with copies, and 200 positions of section
// 3. The work (the cost constants are in cli.hpp): drawing the weights, the four self-attentions
// (72 D² multiply-adds), section 3's rotations (674 D²), the sinusoidal rows computed into fresh
// memory (L, or 2 L with --save, plus 667 in sections 3 and 5: a pow and a sin or cos each) and,
// with --svg, up to 64 rows of the encoding drawn.
Cost cost_of(const Options& opt) {
  const double L = opt.seq_len, D = opt.d_model;
  const double rows = (opt.common.save_dir.empty() ? 1.0 : 2.0) * L + 667.0;
  const double figure = opt.common.svg_dir.empty() ? 0.0 : std::min(L, 64.0) * D * svg_cell;
  return {8.0 * (2.0 * L * D + 5.0 * D * D + 200.0 * D),
          D * D * (3.0 * (normal_draw + fresh_double) + 750.0) + rows * D * (2.0 * math_call + fresh_double) +
              figure};
}

Matrix embed(const Labels& sentence, const Matrix& table) {
  Matrix x = Matrix::from_shape({sentence.size(), table.shape(1)});
  for (std::size_t i = 0; i < sentence.size(); ++i) {
    const std::size_t id =
        std::find(kVocabulary.begin(), kVocabulary.end(), sentence[i]) - kVocabulary.begin();
    xt::view(x, i, xt::all()) = xt::view(table, id, xt::all());
  }
  return x;
}

struct TieResult {
  double without = 0;  // largest difference between a token's outputs in the two sentences, no positions
  double with = 0;     // the smallest such difference once positions are added
};

// For each token of A, the difference to the output of the same character in B (for 不, which occurs
// twice, to the closer of B's two 不).
std::vector<double> per_token_differences(const Matrix& out_a, const Matrix& out_b) {
  std::vector<double> diffs;
  for (std::size_t i = 0; i < kSentenceA.size(); ++i) {
    double best = INFINITY;
    for (std::size_t j = 0; j < kSentenceB.size(); ++j) {
      if (kSentenceB[j] != kSentenceA[i]) continue;
      best = std::min(
          best, double(xt::amax(xt::abs(xt::view(out_a, i, xt::all()) - xt::view(out_b, j, xt::all())))()));
    }
    diffs.push_back(best);
  }
  return diffs;
}

// 1. Order blindness, and how positions break the tie.
TieResult show_order(const Options& opt, Rng& rng) {
  print_section("1. Without positions, word order is invisible");
  const std::size_t D = opt.d_model;
  const Matrix table = rng.normal_matrix(kVocabulary.size(), D);
  const double a = 1.0 / std::sqrt(static_cast<double>(D));
  const Matrix w_q = a * rng.normal_matrix(D, D), w_k = a * rng.normal_matrix(D, D),
               w_v = a * rng.normal_matrix(D, D);
  const Matrix xa = embed(kSentenceA, table), xb = embed(kSentenceB, table);
  fmt::print(
      "A = 你 不 能 不 吃 饭 (you cannot not eat: you must eat)\n"
      "B = 不 你 不 能 吃 饭 (the same six characters, scrambled)\n"
      "Same embeddings, same self-attention weights (chapter 03), d_model = {}.\n\n",
      D);
  const Matrix pe = sinusoidal_encoding(kSentenceA.size(), D);
  const std::vector<double> plain = per_token_differences(self_attention(xa, w_q, w_k, w_v).output,
                                                          self_attention(xb, w_q, w_k, w_v).output);
  const Matrix pa = xa + pe, pb = xb + pe;
  const std::vector<double> positioned = per_token_differences(self_attention(pa, w_q, w_k, w_v).output,
                                                               self_attention(pb, w_q, w_k, w_v).output);
  fmt::print("{:<10} {:>30} {:>30}\n", "token of A", "|out_A - out_B|, no positions",
             "with sinusoidal positions");
  TieResult r{0, INFINITY};
  for (std::size_t i = 0; i < kSentenceA.size(); ++i) {
    fmt::print("{} {:>30.1e} {:>30.4f}\n", pad_right(fmt::format("{} (#{})", kSentenceA[i], i), 10), plain[i],
               positioned[i]);
    r.without = std::max(r.without, plain[i]);
    r.with = std::min(r.with, positioned[i]);
  }
  fmt::print(
      "\nWithout positions each character gets the same output in both sentences (differences are\n"
      "rounding): A and B are the same set of tokens, and self-attention is permutation-equivariant.\n"
      "Even the two 不 of A get identical outputs. With x + PE, every output differs.\n");
  return r;
}

// 2. The sinusoidal encoding itself.
Matrix show_sinusoidal(const Options& opt) {
  print_section("2. Sinusoidal encoding: PE[p][2i] = sin(p / 10000^(2i/D)), PE[p][2i+1] = cos(...)");
  const Matrix pe = sinusoidal_encoding(opt.seq_len, opt.d_model);
  const std::size_t rows = std::min<std::size_t>(opt.seq_len, 8),
                    cols = std::min<std::size_t>(opt.d_model, 8);
  Labels row_labels, col_labels;
  row_labels = numbered("p=", rows);
  for (std::size_t c = 0; c < cols; ++c)
    col_labels.push_back(fmt::format("{}{}", c % 2 ? "cos" : "sin", c / 2));
  print_matrix(fmt::format("PE, the first {} positions and {} columns of ({}, {})", rows, cols, opt.seq_len,
                           opt.d_model),
               Matrix(xt::view(pe, xt::range(0, rows), xt::range(0, cols))), row_labels, col_labels, 3);
  fmt::print(
      "Each column pair is a clock hand: pair 0 turns 1 radian per position, pair i turns\n"
      "1/10000^(2i/D) radians — the last pair of D = {} turns {:.2e}. Every position gets a\n"
      "different pattern, and every entry lies in [-1, 1].\n",
      opt.d_model, 1.0 / std::pow(10000.0, (opt.d_model - 2.0) / opt.d_model));
  if (!opt.common.svg_dir.empty()) {
    const std::size_t shown = std::min<std::size_t>(opt.seq_len, 64);
    HeatmapSpec spec;
    spec.title =
        fmt::format("Sinusoidal positional encoding, {} positions x {} dimensions", shown, opt.d_model);
    spec.row_axis = "position p";
    spec.col_axis = "dimension (sin, cos pairs)";
    spec.vmin = -1;
    spec.vmax = 1;
    spec.decimals = -1;
    write_heatmap_svg(opt.common.svg_dir, "07-sinusoidal.svg",
                      Matrix(xt::view(pe, xt::range(0, shown), xt::all())), spec);
  }
  return pe;
}

// 3. PE(p + k) = R_k PE(p) with R_k independent of p.
double show_rotation(const Options& opt) {
  print_section("3. PE(p + k) is a fixed rotation of PE(p)");
  fmt::print(
      "sin(a + b) = sin a cos b + cos a sin b and cos(a + b) = cos a cos b - sin a sin b: each pair\n"
      "(sin, cos) at p + k is the pair at p turned by k omega_i. R_k is block-diagonal and does not\n"
      "depend on p, so 'k positions further' is a linear map a layer can learn.\n\n");
  const std::size_t D = opt.d_model, L = 200;
  const Matrix pe = sinusoidal_encoding(L, D);
  double worst = 0;
  fmt::print("{:>4}  {:>40}\n", "k", "max over p of |PE(p + k) - R_k PE(p)|");
  for (std::size_t k : {1, 5, 20, 100}) {
    const Matrix r = rotation(D, static_cast<double>(k));
    double err = 0;
    for (std::size_t p = 0; p + k < L; ++p) {
      for (std::size_t a = 0; a < D; ++a) {
        double v = 0;
        for (std::size_t b = 0; b < D; ++b) v += r(a, b) * pe(p, b);
        err = std::max(err, std::abs(v - pe(p + k, a)));
      }
    }
    worst = std::max(worst, err);
    fmt::print("{:>4}  {:>40.1e}\n", k, err);
  }
  return worst;
}

// 4. A learned table: one trainable row per position.
void show_learned(const Options& opt, Rng& rng) {
  print_section("4. A learned table");
  const std::size_t max_len = 8, D = opt.d_model;
  const Matrix table = 0.02 * rng.normal_matrix(max_len, D);
  fmt::print(
      "Instead of a formula, a (max_len, D) = ({}, {}) parameter matrix, initialised small (N(0, 0.02²)\n"
      "here, BERT's scale; OpenAI's GPT-2 code uses 0.01) and trained with the rest: position p gets\n"
      "row p. That is {} more parameters, and it learns whatever the data needs. But there is no row {}:\n"
      "a sequence longer than max_len cannot be encoded at all, whereas sin and cos exist for every p.\n",
      max_len, D, max_len * D, max_len);
  print_vector("row 3 (position 3), first 4 values", Vector(xt::view(table, 3, xt::range(0, 4))), {}, 4);
}

// 5. RoPE: rotate queries and keys by their position; scores depend only on the offset.
double show_rope(const Options& opt, Rng& rng) {
  print_section("5. Rotary encoding (RoPE): scores that depend only on the offset");
  const std::size_t D = opt.d_model;
  const Matrix q = rng.normal_matrix(1, D), k = rng.normal_matrix(1, D);
  const auto score = [&](std::size_t m, std::size_t n) {
    const Matrix qm = apply_rope(q, m), kn = apply_rope(k, n);
    double s = 0;
    for (std::size_t c = 0; c < D; ++c) s += qm(0, c) * kn(0, c);
    return s;
  };
  const auto additive = [&](std::size_t m, std::size_t n) {
    const Matrix pe = sinusoidal_encoding(std::max(m, n) + 1, D);
    double s = 0;
    for (std::size_t c = 0; c < D; ++c) s += (q(0, c) + pe(m, c)) * (k(0, c) + pe(n, c));
    return s;
  };
  fmt::print(
      "RoPE rotates each feature pair of q at position m by m theta_i and of k at n by n theta_i, so\n"
      "q_m . k_n = q . R_(n-m) k depends on n - m only. Same q and k at several positions, offset 3:\n\n");
  fmt::print("{:>5} {:>5} {:>14} {:>24}\n", "m", "n", "RoPE score", "q + PE(m), k + PE(n)");
  double spread = 0, first = 0;
  bool have_first = false;
  for (std::size_t m : {3, 10, 50, 400}) {
    const double s = score(m, m - 3);
    if (!have_first) {
      first = s;
      have_first = true;
    }
    spread = std::max(spread, std::abs(s - first));
    fmt::print("{:>5} {:>5} {:>14.10f} {:>24.6f}\n", m, m - 3, s, additive(m, m - 3));
  }
  fmt::print(
      "\nThe RoPE column is the same for every pair (differences {:.1e}); adding sinusoidal PE to\n"
      "q and k gives a score that also depends on where the pair sits. RoPE is what LLaMA and most\n"
      "recent models use. It also keeps lengths: rotations do not change |q| or |k|.\n",
      spread);
  return spread;
}

int run(const Options& opt) {
  if (opt.d_model % 2 != 0)
    throw usage_error(
        fmt::format("--d-model {} is odd; sinusoidal encoding and RoPE pair up the dimensions, so "
                    "it must be even",
                    opt.d_model));
  require_within_limits(cost_of(opt), fmt::format("--seq-len {} --d-model {}", opt.seq_len, opt.d_model));
  if (!opt.common.save_dir.empty()) {
    const Matrix pe = sinusoidal_encoding(opt.seq_len, opt.d_model);
    save_npy(opt.common.save_dir, "pe", pe);
  }
  print_title("Chapter 07 · Positional encoding");
  print_config("sentences", "你不能不吃饭 and 不你不能吃饭 (6 characters each)");
  print_config("sizes",
               fmt::format("L = {} positions (--seq-len), D = {} (--d-model)", opt.seq_len, opt.d_model));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  const TieResult tie = show_order(opt, rng);
  show_sinusoidal(opt);
  const double rotation_error = show_rotation(opt);
  show_learned(opt, rng);
  const double rope_spread = show_rope(opt, rng);
  if (!opt.common.save_dir.empty())
    fmt::print("\nwrote pe.npy ({}, {}) to {}\n", opt.seq_len, opt.d_model, opt.common.save_dir);

  print_section("Self-checks");
  SelfChecks checks;
  checks.close("no positions: each token's output is the same in both sentences", tie.without, 1e-12);
  checks.expect("with positions: every token's output differs", tie.with > 1e-3,
                fmt::format("smallest difference {:.4f}", tie.with));
  checks.close("PE(p + k) = R_k PE(p)", rotation_error, 1e-10);
  checks.close("RoPE scores depend only on the offset", rope_spread, 1e-10);
  if (!opt.common.svg_dir.empty()) fmt::print("wrote 07-sinusoidal.svg to {}\n", opt.common.svg_dir);
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 07: positional encoding: sinusoidal, learned and rotary", "ch07_positional_encoding"};
  Options opt;
  add_size_option(app, "--seq-len", opt.seq_len, "Positions L in the encoding shown and saved",
                  largest_within_limits(&Options::seq_len, cost_of));
  add_size_option(app, "--d-model", opt.d_model, "Width D of the encoding (even)",
                  largest_within_limits(&Options::d_model, cost_of));
  add_common_options(app, opt.common, /*interop=*/false);
  app.add_option("--save", opt.common.save_dir, "Write pe.npy (L, D), the sinusoidal encoding, to DIR")
      ->type_name("DIR");
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

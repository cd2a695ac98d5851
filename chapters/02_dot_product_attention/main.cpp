// Chapter 02 — scaled dot-product attention: a soft dictionary lookup (Q asks, K answers, V is the
// content) on the sentence 小明喜欢在晴朗的日子里去公园散步, and a measurement of why the scores are
// divided by sqrt(d_k).
//
//   build/bin/ch02_dot_product_attention [--samples N] [--keys S] [--d-max D] [--seed S] [--svg DIR]
//                                        [--load DIR] [--save DIR] [--no-color]
//
// Each section computes into a named result (compute_*), then prints and draws it (show_*); the
// closing self_checks() read those results and nothing else. With --load DIR, run_loaded() does the
// same for the files: compute_loaded, then report_results (results.hpp: check, print, --save), then
// loaded_self_checks.
#include "02_dot_product_attention/contract.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "pytorch.hpp"
#include "results.hpp"
#include "rng.hpp"

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int samples = 1000;  // random query rows per d_k in the sqrt(d_k) experiment
  int keys = 10;       // S, keys per query in that experiment
  int d_max = 1024;    // largest d_k tried (1, 4, 16, ... up to d_max)
};

// The sqrt(d_k) experiment's smallest sizes: fewer queries measure the variance too roughly for the
// self-checks (see standard_error), and one width alone shows nothing growing.
constexpr int kMinSamples = 1000;
constexpr int kMinDMax = 4;

// What a run needs, estimated from its sizes before it starts: one (S, d_max) key matrix at a time;
// for each d_k = 1, 4, 16, ... and each query, (S + 1) d_k normal draws, S d_k multiply-adds and four
// exponentials per score (two softmaxes, each taking exp twice).
Cost cost_of(const Options& opt) {
  double work = 0;
  for (double d = 1; d <= opt.d_max; d *= 4) {
    work += opt.samples * ((opt.keys + 1.0) * d * normal_draw + opt.keys * d + 4.0 * opt.keys * math_call);
  }
  return {8.0 * opt.keys * opt.d_max, work};
}

// The flags, each setting a field of Options (the sizes up to what fits the limits, cost_of).
void add_flags(CLI::App& app, Options& opt) {
  add_size_flag(app, "--samples", opt, &Options::samples,
                "Random queries per d_k in the sqrt(d_k) experiment", cost_of, kMinSamples,
                "at least 1000: fewer measure the variance too roughly for the self-checks");
  add_size_flag(app, "--keys", opt, &Options::keys, "Keys per query in the sqrt(d_k) experiment", cost_of);
  add_size_flag(app, "--d-max", opt, &Options::d_max, "Largest d_k in the sqrt(d_k) experiment", cost_of,
                kMinDMax, "at least 4: the variance must be seen growing from d_k = 1 to 4");
  add_common_options(app, opt.common, /*interop=*/true);
}

// 1. A hard dictionary returns the value of the one key that equals the query. Attention returns a
//    blend of all values, weighted by how well each key matches the query:
//      weights = softmax(Q K^T / sqrt(d_k)),  output = weights V
//    Q (3, 2), K (3, 2), V (3, 3)  ->  weights (3, 3), output (3, 3). Nothing here is checked later,
//    so this one function computes, then prints.
void show_soft_lookup() {
  const Matrix k = {{1, 0}, {0, 1}, {-1, 0}};
  const Matrix v = {{10, 0, 0}, {0, 10, 0}, {0, 0, 10}};
  const Matrix q = {{4, 0}, {3, 3}, {0, 0}};
  const AttentionResult r = scaled_dot_product_attention(q, k, v);

  const Labels keys = {"east", "north", "west"};
  const Labels queries = {"(4, 0)", "(3, 3)", "(0, 0)"};
  const Labels values = {"v0", "v1", "v2"};
  print_section("1. A soft dictionary lookup");
  print_matrix("K: three keys", k, keys, {"x", "y"}, 0);
  print_matrix("V: the value stored under each key", v, keys, values, 0);
  print_matrix("Q: three queries", q, queries, {"x", "y"}, 0);
  print_heatmap("weights = softmax(Q K^T / sqrt(2))", r.weights, queries, keys);
  print_matrix("output = weights V", r.output, queries, values, 2);
  fmt::print(
      "(4, 0) points east and takes mostly east's value; (3, 3) sits between east and north and blends\n"
      "them; (0, 0) matches every key equally and gets the plain average.\n");
}

// 2. The sentence, one token per word, and hand-made features. Each key says what a token IS, each
//    query what it LOOKS FOR, along six readable features; the value is the key's feature vector, so
//    the output says what each token gathered from the others.
const Labels kTokens = {"小明", "喜欢", "在", "晴朗", "的", "日子", "里", "去", "公园", "散步"};
const Labels kFeatures = {"person", "action", "place", "time", "quality", "grammar"};

// The position of `word` in the sentence.
std::size_t position_of(const std::string& word) {
  for (std::size_t i = 0; i < kTokens.size(); ++i)
    if (kTokens[i] == word) return i;
  throw std::logic_error("not a word of the sentence: " + word);
}

struct SentenceResult {
  Matrix q, k, v;             // (10, 6) each: 4 x what each word looks for, 4 x what it is, what it is
  AttentionResult attention;  // weights (10, 10), output (10, 6)
};

// weights = softmax(Q K^T / sqrt(6)), output = weights V, with Q = 4 wants, K = 4 is, V = is.
SentenceResult compute_sentence() {
  //                          person action place time quality grammar
  const Matrix is = {/* 小明 */ {1, 0, 0, 0, 0, 0},
                     /* 喜欢 */ {0, 1, 0, 0, 0, 0},
                     /* 在   */ {0, 0, 0.5, 0.5, 0, 1},
                     /* 晴朗 */ {0, 0, 0, 0, 1, 0},
                     /* 的   */ {0, 0, 0, 0, 0, 1},
                     /* 日子 */ {0, 0, 0, 1, 0, 0},
                     /* 里   */ {0, 0, 0, 0.5, 0, 1},
                     /* 去   */ {0, 1, 0.5, 0, 0, 0},
                     /* 公园 */ {0, 0, 1, 0, 0, 0},
                     /* 散步 */ {0, 1, 0, 0, 0, 0}};
  const Matrix wants = {/* 小明: what does he do?        */ {0, 1, 0, 0, 0, 0},
                        /* 喜欢: who likes (and what)?    */ {1, 0.5, 0, 0, 0, 0},
                        /* 在: at what time?              */ {0, 0, 0, 1, 0, 0},
                        /* 晴朗: describes which time?    */ {0, 0, 0, 1, 0, 0},
                        /* 的: links a quality            */ {0, 0, 0, 0, 1, 0},
                        /* 日子: what kind of day?        */ {0, 0, 0, 0, 1, 0},
                        /* 里: inside which time?         */ {0, 0, 0, 1, 0, 0},
                        /* 去: go where?                  */ {0, 0, 1, 0, 0, 0},
                        /* 公园: what happens there?      */ {0, 1, 1, 0, 0, 0},
                        /* 散步: who walks, where?        */ {1, 0, 1, 0, 0, 0}};
  SentenceResult r;
  // Scaled by 4 so that a full match scores 16 / sqrt(6) = 6.5 and the softmax can pick it out.
  r.q = 4.0 * wants;
  r.k = 4.0 * is;
  r.v = is;
  r.attention = scaled_dot_product_attention(r.q, r.k, r.v);
  return r;
}

void show_sentence(const SentenceResult& r, Figures& figures) {
  print_section("2. 小明喜欢在晴朗的日子里去公园散步: every word asks, every word answers");
  print_matrix("K: what each word is (4 x its features)", r.k, kTokens, kFeatures, 0);
  print_matrix("Q: what each word looks for (4 x features)", r.q, kTokens, kFeatures, 0);
  print_heatmap("weights = softmax(Q K^T / sqrt(6)), row = the word asking, column = the word answering",
                r.attention.weights, kTokens, kTokens);
  print_matrix("output = weights V, with V = K / 4: the features each word gathered", r.attention.output,
               kTokens, kFeatures, 2);
  figures.heatmap("02-sentence-weights.svg", r.attention.weights,
                  heatmap_spec("Attention weights on 小明喜欢在晴朗的日子里去公园散步 (rows sum to 1)",
                               kTokens, kTokens, "query: the word that asks", "key: the word that answers"));
}

// --save DIR in the walkthrough: the sentence's inputs and outputs, to check against PyTorch (see
// docs/02-dot_product_attention.md).
std::vector<NamedResult> sentence_files(const SentenceResult& r) {
  return {named_result("query", r.q), named_result("key", r.k), named_result("value", r.v),
          named_result("output", r.attention.output), named_result("weights", r.attention.weights)};
}

// 3. Why divide by sqrt(d_k): q.k = sum over c of q_c k_c is a sum of d_k products of variance 1, so
//    its variance is d_k; divided by sqrt(d_k), it is 1 for every d_k.

// The softmax of one row of scores, summed up in two numbers.
struct SoftmaxStats {
  double top;    // the largest weight: 1/S is uniform, 1 is one-hot
  double slope;  // sum_j p_j (1 - p_j), the trace of the softmax's Jacobian
};

// p_j = exp(s_j - m) / sum_k exp(s_k - m), m the largest score. When the softmax saturates (one
// weight near 1), the slope goes to 0 and so does the gradient that training sends through it.
SoftmaxStats softmax_stats(const std::vector<double>& scores) {
  const double m = *std::max_element(scores.begin(), scores.end());
  double sum = 0;
  for (double s : scores) sum += std::exp(s - m);
  SoftmaxStats stats;
  stats.top = 1.0 / sum;  // the largest weight is exp(m - m) / sum
  stats.slope = 0;
  for (double s : scores) {
    const double p = std::exp(s - m) / sum;
    stats.slope += p * (1 - p);
  }
  return stats;
}

// The numbers of the sqrt(d_k) experiment for one d_k.
struct ScaleRow {
  int d_k = 0;
  double var_raw = 0, var_scaled = 0;    // variance of q.k and of q.k / sqrt(d_k)
  double top_raw = 0, top_scaled = 0;    // mean of the largest weight in a row of S
  double grad_raw = 0, grad_scaled = 0;  // mean of sum_j p_j (1 - p_j): the softmax's slope
};

// One d_k: `samples` queries q (1, d_k), each against S fresh keys k (S, d_k), all entries N(0, 1).
// var(q.k) = mean of (q.k)² - (mean of q.k)² over all samples x S dot products; the softmax numbers
// are averaged over the samples rows of S scores.
ScaleRow measure_scale(Rng& rng, int d_k, int samples, int keys) {
  ScaleRow row;
  row.d_k = d_k;
  double sum = 0, sum_sq = 0;
  std::vector<double> raw(keys), scaled(keys);
  const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(d_k));
  for (int i = 0; i < samples; ++i) {
    const Matrix q = rng.normal_matrix(1, d_k);
    const Matrix k = rng.normal_matrix(keys, d_k);
    for (int j = 0; j < keys; ++j) {
      double dot = 0;
      for (int c = 0; c < d_k; ++c) dot += q(0, c) * k(j, c);
      raw[j] = dot;
      scaled[j] = dot * inv_sqrt_d;
      sum += dot;
      sum_sq += dot * dot;
    }
    const SoftmaxStats plain = softmax_stats(raw);
    row.top_raw += plain.top;
    row.grad_raw += plain.slope;
    const SoftmaxStats divided = softmax_stats(scaled);
    row.top_scaled += divided.top;
    row.grad_scaled += divided.slope;
  }
  const double n = static_cast<double>(samples) * keys;
  row.var_raw = sum_sq / n - (sum / n) * (sum / n);
  row.var_scaled = row.var_raw / d_k;
  row.top_raw /= samples;
  row.top_scaled /= samples;
  row.grad_raw /= samples;
  row.grad_scaled /= samples;
  return row;
}

struct ScalingResult {
  int samples = 0, keys = 0;   // queries per d_k, S keys per query
  std::vector<ScaleRow> rows;  // d_k = 1, 4, 16, ... up to --d-max
};

ScalingResult compute_scaling(const Options& opt, Rng& rng) {
  ScalingResult r;
  r.samples = opt.samples;
  r.keys = opt.keys;
  for (int d = 1; d <= opt.d_max; d *= 4) r.rows.push_back(measure_scale(rng, d, opt.samples, opt.keys));
  return r;
}

void show_scaling(const ScalingResult& r, Figures& figures) {
  print_section("3. Why divide by sqrt(d_k)?");
  fmt::print("q and k have entries drawn from N(0, 1). For each d_k: {} queries, each against {} keys.\n",
             r.samples, r.keys);
  fmt::print("top weight = mean largest softmax weight in a row (1/S = {:.2f} is uniform, 1 is one-hot);\n",
             1.0 / r.keys);
  fmt::print("slope = mean sum_j p_j (1 - p_j), how much the weights still react to the scores.\n\n");
  fmt::print("{:>6}  {:>10}  {:>15}  {:>16}  {:>10}  {:>10}  {:>12}\n", "d_k", "var(q.k)", "var(q.k/√d_k)",
             "top weight raw", "scaled", "slope raw", "scaled");
  for (const ScaleRow& row : r.rows) {
    fmt::print("{:>6}  {:>10.2f}  {:>15.3f}  {:>16.3f}  {:>10.3f}  {:>10.3f}  {:>12.3f}\n", row.d_k,
               row.var_raw, row.var_scaled, row.top_raw, row.top_scaled, row.grad_raw, row.grad_scaled);
  }
  fmt::print(
      "\nWithout the scale, the variance grows like d_k, the largest score dwarfs the others, the softmax\n"
      "turns one-hot and its slope (the gradient learning needs) vanishes. Dividing by sqrt(d_k) keeps\n"
      "the variance at 1 and the softmax equally soft for every d_k.\n");

  std::vector<double> dims, top_raw, top_scaled;
  for (const ScaleRow& row : r.rows) {
    dims.push_back(row.d_k);
    top_raw.push_back(row.top_raw);
    top_scaled.push_back(row.top_scaled);
  }
  const PlotSpec spec{
      fmt::format("Largest softmax weight of {} random scores, mean of {} rows", r.keys, r.samples), "d_k",
      "largest weight", /*log2_x=*/true};
  figures.line_plot("02-saturation.svg", dims,
                    {{"softmax(q·k)", top_raw}, {"softmax(q·k / √d_k)", top_scaled}}, spec);
}

// The standard error of var(q.k / sqrt(d_k)) measured on N queries, each against S keys. For one
// query, the mean of (q.k_j)² / d_k over its S keys has mean 1 and variance 2/d + 2/S + 4/(d S):
// given q, every q.k_j is N(0, |q|²), and |q|² / d has variance 2/d. The N queries are independent.
double standard_error(double d_k, int samples, int keys) {
  const double S = keys;
  return std::sqrt((2.0 / d_k + 2.0 / S + 4.0 / (d_k * S)) / samples);
}

// The column with the largest weight in row i (a loop: xt::argmax(v, 0) on 1-D is trap 2 in
// CONTRIBUTING.md).
std::size_t most_attended(const Matrix& weights, std::size_t i) {
  std::size_t best = 0;
  for (std::size_t j = 1; j < weights.shape(1); ++j)
    if (weights(i, j) > weights(i, best)) best = j;
  return best;
}

// The closing self-checks: every claim of the walkthrough, from the numbers it computed.
int self_checks(const SentenceResult& sentence, const ScalingResult& scaling) {
  print_section("Self-checks");
  SelfChecks checks;
  const Matrix& weights = sentence.attention.weights;
  checks.close("sentence: rows sum to 1", max_row_sum_error(weights), 1e-12);
  // 去 (go where?) should read mostly from 公园 (the park), and 晴朗 from 日子.
  checks.expect("去 attends most to 公园", most_attended(weights, position_of("去")) == position_of("公园"));
  checks.expect("晴朗 attends most to 日子",
                most_attended(weights, position_of("晴朗")) == position_of("日子"));
  // A measured variance is off by a few standard errors; 5 of them is at most 0.45 for N >= 1000
  // queries, so the variance at d_k = 4 stays above the one at d_k = 1 whenever this check passes.
  double worst_var = 0, worst_errors = 0;
  for (const ScaleRow& row : scaling.rows) {
    const double deviation = std::abs(row.var_scaled - 1);
    worst_var = std::max(worst_var, deviation);
    worst_errors = std::max(worst_errors, deviation / standard_error(row.d_k, scaling.samples, scaling.keys));
  }
  checks.expect("var(q.k / sqrt(d_k)) is 1 within 5 standard errors for every d_k", worst_errors < 5,
                fmt::format("largest deviation {:.3f}, {:.1f} standard errors", worst_var, worst_errors));
  const ScaleRow& widest = scaling.rows.back();
  checks.expect("var(q.k) grows with d_k", widest.var_raw > 0.5 * widest.d_k,
                fmt::format("{:.1f} at d_k = {}", widest.var_raw, widest.d_k));
  return checks.exit_code();
}

// --load DIR: attention on query.npy (L, E), key.npy (S, E), value.npy (S, Ev), as in PyTorch.
struct LoadedResult {
  AttentionInputs inputs;     // query (L, E), key (S, E), value (S, Ev)
  AttentionResult attention;  // weights (L, S), output (L, Ev)
};

// weights = softmax(query key^T / sqrt(E)), output = weights value; bad files are bad input
// (usage_error), and so are results that overflow (report_results checks them).
LoadedResult compute_loaded(const std::string& dir) {
  LoadedResult r;
  r.inputs = load_attention_inputs(dir);
  require_no_unread_files(dir, {"output", "weights"}, "the files of attention (query, key, value)");
  const Matrix &q = r.inputs.query, &k = r.inputs.key, &v = r.inputs.value;
  require_memory(8.0 * 3.0 * q.shape(0) * k.shape(0),
                 fmt::format("the ({}, {}) weights of these files", q.shape(0), k.shape(0)));
  r.attention = scaled_dot_product_attention(q, k, v);
  return r;
}

// The results as PyTorch names them, printed after the inputs.
std::vector<NamedResult> loaded_results(const LoadedResult& r) {
  return {shown_matrix("weights", r.attention.weights, "weights = softmax(query key^T / sqrt(E))"),
          shown_matrix("output", r.attention.output, "output = weights value")};
}

int loaded_self_checks(const LoadedResult& r) {
  print_section("Self-checks");
  SelfChecks checks;
  checks.close("rows sum to 1", max_row_sum_error(r.attention.weights), 1e-12);
  checks.expect("no NaN", !xt::any(xt::isnan(r.attention.output)));
  return checks.exit_code();
}

int run_loaded(const Options& opt) {
  const LoadedResult r = compute_loaded(opt.common.load_dir);
  print_title("Chapter 02 · Scaled dot-product attention on " + opt.common.load_dir);
  print_matrix("query " + shape_of(r.inputs.query), r.inputs.query);
  print_matrix("key " + shape_of(r.inputs.key), r.inputs.key);
  print_matrix("value " + shape_of(r.inputs.value), r.inputs.value);
  report_results(loaded_results(r), opt.common.save_dir);
  return loaded_self_checks(r);
}

int run(const Options& opt) {
  if (!opt.common.load_dir.empty()) return run_loaded(opt);
  require_within_limits(cost_of(opt),
                        fmt::format("--samples {} --keys {} --d-max {}", opt.samples, opt.keys, opt.d_max));
  print_title("Chapter 02 · Scaled dot-product attention");
  print_config("sentence", "小明喜欢在晴朗的日子里去公园散步, 10 tokens, 6 hand-made features");
  print_config("sqrt(d_k) experiment",
               fmt::format("{} samples (--samples), {} keys (--keys), d_k up to {} (--d-max)", opt.samples,
                           opt.keys, opt.d_max));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  Figures figures(opt.common);
  show_soft_lookup();
  const SentenceResult sentence = compute_sentence();
  show_sentence(sentence, figures);
  const ScalingResult scaling = compute_scaling(opt, rng);
  show_scaling(scaling, figures);
  if (!opt.common.save_dir.empty()) report_results(sentence_files(sentence), opt.common.save_dir);

  const int status = self_checks(sentence, scaling);
  figures.report();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 02: scaled dot-product attention, and why the scores are divided by sqrt(d_k)",
               "ch02_dot_product_attention"};
  Options opt;
  add_flags(app, opt);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}

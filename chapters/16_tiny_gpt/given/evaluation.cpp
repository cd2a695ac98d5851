// Chapter 16 — given code: measuring a trained model — the positions every model is scored on, the
// n-gram baselines tuned on the validation text, the lines' shape, what the heads attend to, seeds run
// on two threads and their spread. Declared in chapters/16_tiny_gpt/given.hpp; chapter 18 calls them too.
#include "16_tiny_gpt/given.hpp"

#include <atomic>
#include <cmath>
#include <exception>
#include <thread>

namespace course {

std::vector<std::size_t> predicted_positions(const std::vector<Window>& windows) {
  std::vector<std::size_t> positions;
  for (const Window& w : windows)
    for (std::size_t t = 1; t < w.length; ++t) positions.push_back(w.start + t);
  return positions;
}

std::vector<double> in_bits(const std::vector<double>& nats) {
  std::vector<double> bits;
  for (double l : nats) bits.push_back(l / 0.69314718055994530942);
  return bits;
}

namespace {

// Each candidate value of a baseline's α or λ scored on the validation text; the best kept and
// scored on both parts. make(value) is the baseline with that value.
template <class Make>
Tuned tune(const std::vector<double>& values, Make make, const CharCounts& counts,
           const std::vector<std::size_t>& validation_ids,
           const std::vector<std::size_t>& validation_positions, const std::vector<std::size_t>& test_ids,
           const std::vector<std::size_t>& test_positions) {
  Tuned t;
  t.values = values;
  double best = 0.0;
  for (double v : values) {
    const double bits = mean_of(ngram_bits(counts, make(v), validation_ids, validation_positions));
    t.validation_bits.push_back(bits);
    if (t.validation_bits.size() == 1 || bits < best) {
      best = bits;
      t.best = make(v);
    }
  }
  t.validation = ngram_bits(counts, t.best, validation_ids, validation_positions);
  t.test = ngram_bits(counts, t.best, test_ids, test_positions);
  return t;
}

}  // namespace

NgramBaselines tune_baselines(const CharCounts& counts, const std::vector<std::size_t>& validation_ids,
                              const std::vector<std::size_t>& validation_positions,
                              const std::vector<std::size_t>& test_ids,
                              const std::vector<std::size_t>& test_positions) {
  const auto scored = [&](const std::vector<double>& values, auto make) {
    return tune(values, make, counts, validation_ids, validation_positions, test_ids, test_positions);
  };
  NgramBaselines b;
  const std::vector<double> alphas = {0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0};
  b.unigram = scored(alphas, [](double a) { return NgramModel{NgramKind::unigram, a, 0.0}; });
  b.add_alpha = scored(alphas, [](double a) { return NgramModel{NgramKind::add_alpha_bigram, a, 0.0}; });
  const double unigram_alpha = b.unigram.best.alpha;
  std::vector<double> lambdas;
  for (int k = 1; k <= 9; ++k) lambdas.push_back(0.1 * k);
  b.interpolated = scored(lambdas, [unigram_alpha](double l) {
    return NgramModel{NgramKind::interpolated_bigram, unigram_alpha, l};
  });
  return b;
}

bool regular_line(const std::u32string& line) {
  for (std::size_t n : {5u, 7u}) {
    if (line.size() != 2 * n + 2 || line[n] != U'，') continue;
    const char32_t end = line.back();
    if (end != U'。' && end != U'？' && end != U'！') continue;
    bool plain = true;
    for (std::size_t i = 0; i < line.size(); ++i)
      if (i != n && i + 1 != line.size()) plain = plain && line[i] >= 0x4E00 && line[i] <= 0x9FFF;
    if (plain) return true;
  }
  return false;
}

// the non-empty lines of a text, except the last (it may be cut off)
LineShape line_shape(const std::u32string& text) {
  LineShape s;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != U'\n') continue;
    const std::u32string line = text.substr(start, i - start);
    if (!line.empty()) {
      ++s.lines;
      if (regular_line(line)) ++s.regular;
    }
    start = i + 1;
  }
  // half-lines: the non-empty pieces between '，', '。', '？', '！' and '\n' (the last piece left out)
  std::size_t length = 0;
  for (char32_t ch : text) {
    if (ch == U'，' || ch == U'。' || ch == U'？' || ch == U'！' || ch == U'\n') {
      if (length > 0) {
        ++s.half_lines;
        if (length == 5 || length == 7) ++s.half_lines_5_or_7;
      }
      length = 0;
    } else {
      ++length;
    }
  }
  return s;
}

// the attention of every block and head on the validation poems' regular lines, each read on its own
HeadStatistics head_statistics(const TinyGpt& model, const Vocabulary& vocab,
                               const std::vector<Poem>& poems) {
  const TinyGptConfig& c = model.config;
  HeadStatistics s;
  s.parallel.assign(c.n_layers, std::vector<double>(c.n_heads, 0.0));
  s.previous = s.parallel;
  s.line_start = s.parallel;
  for (std::size_t p = 0; p < poems.size(); ++p) {
    if (poem_part(p) != PoemPart::validation) continue;
    for (const std::u32string& line : poems[p].lines) {
      if (!regular_line(line) || line.size() > c.n_ctx) continue;
      const std::size_t n = (line.size() - 2) / 2, T = line.size();
      const TinyGptForward f = tiny_gpt_forward(model, vocab.encode(line), T);
      for (std::size_t l = 0; l < c.n_layers; ++l) {
        const Tensor4& w = f.blocks[l].saved.attention.weights;  // (1, H, T, T)
        for (std::size_t h = 0; h < c.n_heads; ++h) {
          for (std::size_t i = n + 2; i < 2 * n + 1;
               ++i) {  // the second half-line's characters after its first
            s.parallel[l][h] += w(0, h, i, i - n - 1);
            s.previous[l][h] += w(0, h, i, i - 1);
            s.line_start[l][h] += w(0, h, i, 0);
          }
        }
      }
      for (std::size_t i = n + 2; i < 2 * n + 1; ++i) s.uniform += 1.0 / static_cast<double>(i + 1);
      s.queries += n - 1;
    }
  }
  s.uniform /= static_cast<double>(s.queries);
  for (std::size_t l = 0; l < c.n_layers; ++l) {
    for (std::size_t h = 0; h < c.n_heads; ++h) {
      s.parallel[l][h] /= static_cast<double>(s.queries);
      s.previous[l][h] /= static_cast<double>(s.queries);
      s.line_start[l][h] /= static_cast<double>(s.queries);
    }
  }
  return s;
}

void run_on_two_threads(std::size_t n, const std::function<void(std::size_t)>& job) {
  std::atomic<std::size_t> next{0};
  std::vector<std::exception_ptr> errors(n);
  auto worker = [&] {
    for (std::size_t j = next++; j < n; j = next++) {
      try {
        job(j);
      } catch (...) {
        errors[j] = std::current_exception();
      }
    }
  };
  std::thread second(worker);
  worker();
  second.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

std::string percent(double x) {
  return fmt::format("{:.1f}%", 100.0 * x);
}

Spread spread(const std::vector<double>& x) {
  Spread s;
  s.mean = mean_of(x);
  if (x.size() < 2) return s;
  double squares = 0.0;
  for (double v : x) squares += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(squares / static_cast<double>(x.size() - 1));
  return s;
}
std::string mean_sd(const std::vector<double>& x) {
  const Spread s = spread(x);
  return x.size() < 2 ? fmt::format("{:.4f}", s.mean) : fmt::format("{:.4f} ± {:.4f}", s.mean, s.sd);
}

}  // namespace course

// Chapter 16 — given code (declared in chapters/16_tiny_gpt/given.hpp): the poems of 唐诗三百首, their
// characters, the split, and the n-gram baselines.
#include "16_tiny_gpt/given.hpp"
#include "cli.hpp"    // usage_error
#include "files.hpp"  // read_text_file

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>

namespace course {

// bytes -> code points: 1 byte 0xxxxxxx, 2 bytes 110xxxxx 10xxxxxx, 3 and 4 bytes likewise
std::u32string decode_utf8(const std::string& text) {
  std::u32string out;
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    char32_t cp = 0;
    if (c < 0x80) {
      n = 1, cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4, cp = c & 0x07;
    } else {
      throw std::invalid_argument(fmt::format("not UTF-8: byte {} is 0x{:02x}", i, c));
    }
    if (i + n > text.size()) throw std::invalid_argument(fmt::format("not UTF-8: byte {} is cut short", i));
    for (std::size_t k = 1; k < n; ++k) {
      const unsigned char d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xC0) != 0x80) throw std::invalid_argument(fmt::format("not UTF-8: byte {}", i + k));
      cp = (cp << 6) | (d & 0x3F);
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::string encode_utf8(const std::u32string& text) {
  std::string out;
  for (char32_t cp : text) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

namespace {
// "\x1b[32m《静夜思》\x1b[m" -> "《静夜思》"
std::string strip_colour_codes(const std::string& line) {
  std::string out;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b' && i + 1 < line.size() && line[i + 1] == '[') {
      const std::size_t m = line.find('m', i);
      if (m == std::string::npos) break;
      i = m;
      continue;
    }
    out.push_back(line[i]);
  }
  return out;
}
}  // namespace

// title, 作者：author, lines ..., "%"
std::vector<Poem> parse_tang300(const std::string& text) {
  std::vector<Poem> poems;
  std::vector<std::string> block;  // the non-empty lines of the poem being read
  std::size_t line_number = 0, block_start = 1;
  const std::string author_tag = "作者：";
  auto finish = [&]() {
    if (block.empty()) return;
    if (block.size() < 3 || block[1].compare(0, author_tag.size(), author_tag) != 0) {
      throw std::invalid_argument(
          fmt::format("the poem at line {} lacks its title, its 作者： line or its text", block_start));
    }
    Poem p;
    p.title = block[0];
    p.author = block[1].substr(author_tag.size());
    for (std::size_t i = 2; i < block.size(); ++i) {
      try {
        p.lines.push_back(decode_utf8(block[i]));
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(fmt::format("line {}: {}", block_start + i, e.what()));
      }
    }
    poems.push_back(std::move(p));
    block.clear();
  };
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "%") {
      finish();
      continue;
    }
    line = strip_colour_codes(line);
    if (line.empty()) continue;
    if (block.empty()) block_start = line_number;
    block.push_back(line);
  }
  finish();
  return poems;
}

std::vector<Poem> load_tang300(const std::string& path) {
  // 唐诗三百首 is well under 1 MiB: a file of more than 10 MiB is not the poems
  const std::string text =
      read_text_file(path, "--data", 10 << 20,
                     path == kTang300Path ? "install Debian's fortunes-zh package (./course setup)" : "");
  try {
    std::vector<Poem> poems = parse_tang300(text);
    if (poems.size() < 10) throw std::invalid_argument(fmt::format("only {} poems", poems.size()));
    return poems;
  } catch (const std::invalid_argument& e) {
    throw usage_error(fmt::format("{} (fortunes-zh) is not 唐诗三百首 as expected: {}", path, e.what()));
  }
}

// line '\n' line '\n' ... '\n'
std::u32string poem_text(const Poem& poem) {
  std::u32string t;
  for (const std::u32string& line : poem.lines) t += line + U"\n";
  return t + U"\n";
}

// i % 10: 9 test, 4 validation, else training
PoemPart poem_part(std::size_t poem_index) {
  if (poem_index % 10 == 9) return PoemPart::test;
  if (poem_index % 10 == 4) return PoemPart::validation;
  return PoemPart::train;
}

PoemSplit split_tang300(const std::vector<Poem>& poems) {
  PoemSplit s;
  for (std::size_t i = 0; i < poems.size(); ++i) {
    switch (poem_part(i)) {
      case PoemPart::train:
        s.train += poem_text(poems[i]);
        ++s.train_poems;
        break;
      case PoemPart::validation:
        s.validation += poem_text(poems[i]);
        ++s.validation_poems;
        break;
      case PoemPart::test:
        s.test += poem_text(poems[i]);
        ++s.test_poems;
        break;
    }
  }
  return s;
}

bool is_held_out(std::size_t poem_index) {
  return poem_part(poem_index) == PoemPart::test;
}

Corpus split_poems(const std::vector<Poem>& poems) {
  Corpus c;
  for (std::size_t i = 0; i < poems.size(); ++i) {
    if (is_held_out(i)) {
      c.held_out += poem_text(poems[i]);
      ++c.held_out_poems;
    } else {
      c.train += poem_text(poems[i]);
      ++c.train_poems;
    }
  }
  return c;
}

Vocabulary make_vocabulary(const std::vector<Poem>& poems) {
  std::u32string text;
  for (const Poem& p : poems) text += poem_text(p);
  return vocabulary_of(text);
}

Vocabulary vocabulary_of(const std::u32string& text) {
  std::set<char32_t> seen(text.begin(), text.end());
  seen.insert(U'\n');
  Vocabulary v;
  v.chars.assign(seen.begin(), seen.end());  // std::set is sorted by code point
  for (std::size_t i = 0; i < v.chars.size(); ++i) v.ids[v.chars[i]] = i;
  return v;
}

std::vector<std::size_t> Vocabulary::encode(const std::u32string& text) const {
  std::vector<std::size_t> out;
  out.reserve(text.size());
  for (char32_t ch : text) {
    const auto it = ids.find(ch);
    if (it == ids.end()) {
      throw std::invalid_argument(fmt::format("Vocabulary::encode: U+{:04X} is not in the vocabulary",
                                              static_cast<std::uint32_t>(ch)));
    }
    out.push_back(it->second);
  }
  return out;
}

std::string Vocabulary::decode(const std::vector<std::size_t>& id_list) const {
  std::u32string text;
  for (std::size_t id : id_list) {
    if (id >= chars.size())
      throw std::invalid_argument(fmt::format("Vocabulary::decode: id {} is not below {}", id, chars.size()));
    text.push_back(chars[id]);
  }
  return encode_utf8(text);
}

// count(b) for every id, count(a, b) for every neighbouring pair
CharCounts count_chars(const std::vector<std::size_t>& ids, std::size_t vocab) {
  CharCounts c;
  c.vocab = vocab;
  c.total = static_cast<double>(ids.size());
  c.counts.assign(vocab, 0.0);
  c.pair_counts.assign(vocab * vocab, 0.0);
  c.count_before.assign(vocab, 0.0);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= vocab)
      throw std::invalid_argument(fmt::format("count_chars: id at {} is {}, not below {}", i, ids[i], vocab));
    c.counts[ids[i]] += 1.0;
    if (i == 0) continue;
    c.pair_counts[ids[i - 1] * vocab + ids[i]] += 1.0;
    c.count_before[ids[i - 1]] += 1.0;
  }
  return c;
}

// P₁(b), add-α bigram, or λ · bigram + (1 − λ) · P₁(b) (P₁(b) alone after an a never seen)
double NgramModel::probability(const CharCounts& c, std::size_t a, std::size_t b) const {
  const double V = static_cast<double>(c.vocab);
  if (kind == NgramKind::add_alpha_bigram)
    return (c.pair_counts[a * c.vocab + b] + alpha) / (c.count_before[a] + alpha * V);
  const double unigram = (c.counts[b] + alpha) / (c.total + alpha * V);
  if (kind == NgramKind::unigram || c.count_before[a] == 0.0) return unigram;
  return lambda * c.pair_counts[a * c.vocab + b] / c.count_before[a] + (1.0 - lambda) * unigram;
}

std::vector<double> ngram_bits(const CharCounts& counts, const NgramModel& model,
                               const std::vector<std::size_t>& ids,
                               const std::vector<std::size_t>& positions) {
  if (!(model.alpha > 0.0) || !std::isfinite(model.alpha))
    throw std::invalid_argument("ngram_bits: alpha must be above 0");
  if (!(model.lambda >= 0.0 && model.lambda < 1.0))
    throw std::invalid_argument("ngram_bits: lambda must be in [0, 1)");
  std::vector<double> bits;
  for (std::size_t i : positions) {
    if (i == 0 || i >= ids.size())
      throw std::invalid_argument(fmt::format("ngram_bits: position {} has no predecessor", i));
    if (ids[i - 1] >= counts.vocab || ids[i] >= counts.vocab)
      throw std::invalid_argument(fmt::format("ngram_bits: an id at {} is not below {}", i, counts.vocab));
    bits.push_back(-std::log2(model.probability(counts, ids[i - 1], ids[i])));
  }
  return bits;
}

double mean_of(const std::vector<double>& losses) {
  if (losses.empty()) throw std::invalid_argument("mean_of: no losses");
  double sum = 0.0;
  for (double l : losses) sum += l;
  return sum / static_cast<double>(losses.size());
}

std::vector<bool> unseen_in_training(const CharCounts& counts, const std::vector<std::size_t>& ids,
                                     const std::vector<std::size_t>& positions) {
  std::vector<bool> unseen;
  for (std::size_t i : positions) {
    if (i >= ids.size() || ids[i] >= counts.vocab)
      throw std::invalid_argument(fmt::format("unseen_in_training: position {} is not an id of the text", i));
    unseen.push_back(counts.counts[ids[i]] == 0.0);
  }
  return unseen;
}

// Σ_marked loss / n
double share_on(const std::vector<double>& losses, const std::vector<bool>& marked) {
  if (losses.empty() || losses.size() != marked.size())
    throw std::invalid_argument(
        fmt::format("share_on: {} losses and {} marks", losses.size(), marked.size()));
  double sum = 0.0;
  for (std::size_t i = 0; i < losses.size(); ++i)
    if (marked[i]) sum += losses[i];
  return sum / static_cast<double>(losses.size());
}

// two windows of training text, one of each held-out part, and a line start with room for one
void require_text_for_windows(const std::string& data, const std::u32string& train,
                              const std::vector<std::size_t>& held_out_sizes, std::size_t n_ctx) {
  const std::size_t window = n_ctx + 1;
  bool enough = train.size() >= 2 * window;
  for (std::size_t size : held_out_sizes) enough = enough && size >= window;
  if (!enough)
    throw usage_error(fmt::format("{}: too little text for windows of {} characters", data, window));
  bool fits = false;
  for (std::size_t s = 0; s + window <= train.size(); ++s)
    fits = fits || ((s == 0 || train[s - 1] == U'\n') && train[s] != U'\n');
  if (!fits)
    throw usage_error(fmt::format("{}: no training line starts a window of {} characters", data, window));
}

}  // namespace course

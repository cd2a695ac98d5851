// Chapter 16 — given code (declared in common/given/16_tiny_gpt.hpp): the poems of 唐诗三百首, their
// characters, and the bigram baseline.
#include "cli.hpp"    // usage_error
#include "files.hpp"  // read_text_file
#include "given/16_tiny_gpt.hpp"

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

bool is_held_out(std::size_t poem_index) {
  return poem_index % 10 == 9;
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
  std::set<char32_t> seen{U'\n'};
  for (const Poem& p : poems)
    for (char32_t ch : poem_text(p)) seen.insert(ch);
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

// count(a, b) for every neighbouring pair of the text
Bigram count_bigrams(const std::vector<std::size_t>& ids, std::size_t vocab, double alpha) {
  if (!(alpha > 0.0) || !std::isfinite(alpha))
    throw std::invalid_argument("count_bigrams: alpha must be above 0");
  Bigram b;
  b.vocab = vocab;
  b.alpha = alpha;
  b.pair_counts.assign(vocab * vocab, 0.0);
  b.counts.assign(vocab, 0.0);
  for (std::size_t i = 1; i < ids.size(); ++i) {
    if (ids[i - 1] >= vocab || ids[i] >= vocab)
      throw std::invalid_argument(fmt::format("count_bigrams: id at {} is not below {}", i, vocab));
    b.pair_counts[ids[i - 1] * vocab + ids[i]] += 1.0;
    b.counts[ids[i - 1]] += 1.0;
  }
  return b;
}

// (count(a, b) + α) / (count(a) + α V)
double Bigram::probability(std::size_t a, std::size_t b) const {
  return (pair_counts[a * vocab + b] + alpha) / (counts[a] + alpha * static_cast<double>(vocab));
}

double bigram_bits_per_char(const Bigram& bigram, const std::vector<std::size_t>& ids,
                            const std::vector<std::size_t>& positions) {
  if (positions.empty()) throw std::invalid_argument("bigram_bits_per_char: no positions");
  double bits = 0.0;
  for (std::size_t i : positions) {
    if (i == 0 || i >= ids.size())
      throw std::invalid_argument(fmt::format("bigram_bits_per_char: position {} has no predecessor", i));
    bits -= std::log2(bigram.probability(ids[i - 1], ids[i]));
  }
  return bits / static_cast<double>(positions.size());
}

}  // namespace course

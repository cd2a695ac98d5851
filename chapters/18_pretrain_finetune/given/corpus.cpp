// Chapter 18 — given code (declared in chapters/18_pretrain_finetune/given.hpp): the pretraining corpus,
// read from fortunes-zh, cleaned, counted, and its leakage into the held-out poems removed.
#include "18_pretrain_finetune/given.hpp"
#include "cli.hpp"    // usage_error
#include "files.hpp"  // read_text_file

#include <fmt/format.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace course {

// --- the pretraining text -------------------------------------------------------------------------------

// lines between lines "%"
std::vector<std::string> split_fortunes(const std::string& text) {
  std::vector<std::string> entries;
  std::string entry;
  const auto finish = [&] {
    if (entry.find_first_not_of(" \t\n") != std::string::npos) entries.push_back(entry);
    entry.clear();
  };
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "%") {
      finish();
      continue;
    }
    entry += entry.empty() ? line : "\n" + line;
  }
  finish();
  return entries;
}

namespace {

bool is_indentation(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\u00A0' || c == U'\u3000';
}

bool starts_with(const std::u32string& s, const std::u32string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// One line: colour codes (ESC '[' ... 'm') out, then the indentation at both ends.
std::u32string clean_line(const std::u32string& line) {
  std::u32string out;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == U'\x1b' && i + 1 < line.size() && line[i + 1] == U'[') {
      const std::size_t m = line.find(U'm', i);
      i = m == std::u32string::npos ? line.size() : m;  // an unfinished code runs to the line's end
      continue;
    }
    out.push_back(line[i]);
  }
  std::size_t first = 0, last = out.size();
  while (first < last && is_indentation(out[first])) ++first;
  while (last > first && is_indentation(out[last - 1])) --last;
  return out.substr(first, last - first);
}

}  // namespace

// colour codes, indentation, empty lines, 题目:/作者: headers, a last line "-- ..."
CleanEntry clean_fortune(const std::string& entry) {
  std::vector<std::u32string> lines;
  std::u32string header;  // song100's 题目: and 作者: lines
  std::u32string line;
  for (char32_t c : decode_utf8(entry) + U"\n") {
    if (c != U'\n') {
      line.push_back(c);
      continue;
    }
    const std::u32string cleaned = clean_line(line);
    line.clear();
    if (cleaned.empty()) continue;
    if (starts_with(cleaned, U"题目:") || starts_with(cleaned, U"作者:")) {
      header += header.empty() ? cleaned : U" " + cleaned;
      continue;
    }
    lines.push_back(cleaned);
  }
  CleanEntry e;
  e.attribution = header;
  if (!lines.empty() && (starts_with(lines.back(), U"--") || starts_with(lines.back(), U"——"))) {
    e.attribution = lines.back();
    lines.pop_back();
  }
  for (const std::u32string& l : lines) e.text += l + U"\n";
  if (!lines.empty()) e.first_line = lines.front();
  return e;
}

// CJK Unified Ideographs, extension A, compatibility ideographs, extensions B and on
bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0x20000 && c <= 0x3134F);
}

// half-lines between line breaks and ，。？！；、：, each 5 or 7 CJK characters
bool is_five_or_seven(const std::u32string& text) {
  const std::u32string breaks = U"\n，。？！；、：";
  std::size_t half_lines = 0, length = 0;
  for (char32_t c : text + U"\n") {
    if (breaks.find(c) == std::u32string::npos) {
      if (!is_cjk(c)) return false;
      ++length;
      continue;
    }
    if (length == 0) continue;  // two breaks in a row ("。\n")
    if (length != 5 && length != 7) return false;
    ++half_lines;
    length = 0;
  }
  return half_lines > 0;
}

const std::vector<std::string>& entry_kinds() {
  static const std::vector<std::string> kinds{"诗经",   "论语",   "道德经",  "谚语",   "增广贤文",
                                              "菜根谭", "Debian", "song100", "五七言", "other"};
  return kinds;
}

// the first rule of entry_kinds() that matches
std::string kind_of(const CleanEntry& entry, const std::string& file) {
  const std::string attribution = encode_utf8(entry.attribution);
  const auto attributed = [&](const char* text) { return attribution.find(text) != std::string::npos; };
  if (starts_with(entry.first_line, U"《詩經")) return "诗经";
  if (attributed("论语")) return "论语";
  for (const char* book : {"道德经", "谚语", "增广贤文", "菜根谭"})
    if (attributed(fmt::format("《{}》", book).c_str())) return book;
  if (attributed("Debian") || attributed("Osamu Aoki")) return "Debian";
  if (file == kSong100File) return "song100";
  if (is_five_or_seven(entry.text)) return "五七言";
  return "other";
}

std::vector<FortuneEntry> read_fortunes(const std::string& dir, const std::string& file) {
  const std::string path = dir + "/" + file;
  // chinese is about 2 MB: a file of more than 20 MiB is not fortunes-zh's
  const std::string text = read_text_file(
      path, file, 20 << 20, "fortunes-zh's file: install Debian's fortunes-zh package (./course setup)");
  std::vector<FortuneEntry> entries;
  const std::vector<std::string> raw = split_fortunes(text);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    CleanEntry e;
    try {
      e = clean_fortune(raw[i]);
    } catch (const std::invalid_argument& error) {
      throw usage_error(fmt::format("{} (fortunes-zh): entry {}: {}", shorten(path), i + 1, error.what()));
    }
    if (e.text.empty()) continue;
    entries.push_back({e.text, kind_of(e, file), file});
  }
  return entries;
}

CorpusStats corpus_stats(const std::vector<FortuneEntry>& entries) {
  const std::vector<std::string>& kinds = entry_kinds();
  CorpusStats s;
  s.entries_by_kind.assign(kinds.size(), 0);
  s.characters_by_kind.assign(kinds.size(), 0);
  std::set<char32_t> seen;
  for (const FortuneEntry& e : entries) {
    const std::size_t k =
        static_cast<std::size_t>(std::find(kinds.begin(), kinds.end(), e.kind) - kinds.begin());
    if (k == kinds.size()) throw std::invalid_argument("corpus_stats: an entry of kind " + e.kind);
    ++s.entries;
    ++s.entries_by_kind[k];
    s.characters += e.text.size();
    s.characters_by_kind[k] += e.text.size();
    for (char32_t c : e.text) {
      if (is_cjk(c)) ++s.cjk;
      seen.insert(c);
    }
  }
  s.vocabulary = seen.size();
  return s;
}

// --- leakage ----------------------------------------------------------------------------------------------

std::vector<Poem> held_out_poems(const std::vector<Poem>& poems) {
  std::vector<Poem> held_out;
  for (std::size_t i = 0; i < poems.size(); ++i)
    if (poem_part(i) != PoemPart::train) held_out.push_back(poems[i]);
  return held_out;
}

std::u32string without_line_breaks(const std::u32string& text) {
  std::u32string out;
  for (char32_t c : text)
    if (c != U'\n') out.push_back(c);
  return out;
}

// every line, and every run of run_length characters of each poem (line breaks removed)
LeakageFilter make_leakage_filter(const std::vector<Poem>& held_out, std::size_t run_length) {
  if (run_length == 0) throw std::invalid_argument("make_leakage_filter: run_length is 0");
  LeakageFilter f;
  f.run_length = run_length;
  for (const Poem& p : held_out) {
    for (const std::u32string& line : p.lines) f.lines.insert(line);
    const std::u32string text = without_line_breaks(poem_text(p));
    for (std::size_t i = 0; i + run_length <= text.size(); ++i) f.runs.insert(text.substr(i, run_length));
  }
  return f;
}

bool leaks(const LeakageFilter& filter, const std::u32string& entry_text) {
  std::u32string line;
  for (char32_t c : entry_text + U"\n") {
    if (c != U'\n') {
      line.push_back(c);
      continue;
    }
    if (filter.lines.count(line)) return true;
    line.clear();
  }
  const std::u32string text = without_line_breaks(entry_text);
  for (std::size_t i = 0; i + filter.run_length <= text.size(); ++i)
    if (filter.runs.count(text.substr(i, filter.run_length))) return true;
  return false;
}

LeakageRemoval remove_leakage(const std::vector<FortuneEntry>& entries, const LeakageFilter& filter) {
  LeakageRemoval r;
  for (const FortuneEntry& e : entries) {
    if (leaks(filter, e.text)) {
      ++r.removed;
    } else {
      r.kept.push_back(e);
    }
  }
  return r;
}

// a substring search for each held-out line of min_length or more characters
std::size_t held_out_lines_found(const std::vector<FortuneEntry>& entries, const std::vector<Poem>& held_out,
                                 std::size_t min_length) {
  std::vector<std::u32string> texts;
  for (const FortuneEntry& e : entries) texts.push_back(without_line_breaks(e.text));
  std::size_t found = 0;
  for (const Poem& p : held_out)
    for (const std::u32string& line : p.lines) {
      if (line.size() < min_length) continue;
      bool seen = false;
      for (std::size_t k = 0; k < texts.size() && !seen; ++k)
        seen = texts[k].find(line) != std::u32string::npos;
      if (seen) ++found;
    }
  return found;
}

PretrainCorpus build_pretrain_corpus(const std::vector<FortuneEntry>& entries,
                                     const std::vector<Poem>& held_out) {
  PretrainCorpus c;
  c.read = entries.size();
  c.lines_found_before = held_out_lines_found(entries, held_out);
  LeakageRemoval r = remove_leakage(entries, make_leakage_filter(held_out));
  c.entries = std::move(r.kept);
  c.removed = r.removed;
  return c;
}

}  // namespace course

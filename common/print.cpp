#include "print.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace course {

namespace {
bool g_color = false;

const char* bold() {
  return g_color ? "\033[1m" : "";
}
const char* green() {
  return g_color ? "\033[32m" : "";
}
const char* red() {
  return g_color ? "\033[31m" : "";
}
const char* reset() {
  return g_color ? "\033[0m" : "";
}

// Decode one UTF-8 code point starting at s[i]; advances i. Invalid bytes count as one column.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  if (i + extra >= s.size()) extra = 0;  // truncated sequence: treat the byte on its own
  char32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1F) : extra == 2 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k <= extra; ++k) cp = (cp << 6) | (byte(i + k) & 0x3F);
  i += 1 + extra;
  return cp;
}

bool is_wide(char32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

std::size_t widest(const Labels& labels) {
  std::size_t w = 0;
  for (const auto& l : labels) w = std::max(w, display_width(l));
  return w;
}
}  // namespace

Labels numbered(const std::string& prefix, std::size_t n) {
  Labels labels;
  for (std::size_t i = 0; i < n; ++i) labels.push_back(prefix + std::to_string(i));
  return labels;
}

void set_color(bool on) {
  g_color = on;
}
bool color_enabled() {
  return g_color;
}

std::size_t display_width(std::string_view utf8) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < utf8.size();) width += is_wide(next_code_point(utf8, i)) ? 2 : 1;
  return width;
}

std::string pad_right(const std::string& text, std::size_t width) {
  const std::size_t w = display_width(text);
  return w >= width ? text : text + std::string(width - w, ' ');
}

std::string pad_left(const std::string& text, std::size_t width) {
  const std::size_t w = display_width(text);
  return w >= width ? text : std::string(width - w, ' ') + text;
}

namespace {
// A printed matrix shows at most kShownRows rows and kShownCols columns: the first ones, then a line
// saying how many were left out. A matrix from a --load file may have millions of rows; printing it
// whole would flood the terminal (and take minutes) for no reader's benefit.
constexpr std::size_t kShownRows = 32;
constexpr std::size_t kShownCols = 24;

// "  ... 968 more rows and 40 more columns not shown", or "" when everything fits.
std::string left_out(std::size_t rows, std::size_t cols) {
  const std::size_t more_rows = rows > kShownRows ? rows - kShownRows : 0;
  const std::size_t more_cols = cols > kShownCols ? cols - kShownCols : 0;
  if (more_rows == 0 && more_cols == 0) return "";
  std::string what;
  if (more_rows > 0) what = fmt::format("{} more rows", more_rows);
  if (more_rows > 0 && more_cols > 0) what += " and ";
  if (more_cols > 0) what += fmt::format("{} more columns", more_cols);
  return "  ... " + what + " not shown\n";
}

// The labels of the rows and columns of m that are shown: the given ones (or r0.., c0..), cut to at
// most kShownRows and kShownCols.
struct ShownLabels {
  Labels rows, cols;
};
ShownLabels shown_labels(const Matrix& m, const Labels& rows, const Labels& cols) {
  const std::size_t n_rows = std::min(m.shape(0), kShownRows), n_cols = std::min(m.shape(1), kShownCols);
  ShownLabels shown{rows.empty() ? numbered("r", n_rows) : rows, cols.empty() ? numbered("c", n_cols) : cols};
  shown.rows.resize(n_rows);
  shown.cols.resize(n_cols);
  return shown;
}

// "label (rows, cols)" in bold, then the column labels, each right-aligned in `cell` columns after the
// `row_width` columns of the row labels.
void print_header(const std::string& label, const Matrix& m, const Labels& cols, std::size_t row_width,
                  std::size_t cell) {
  fmt::print("{}{}{} {}\n", bold(), label, reset(), shape_of(m));
  std::string header = std::string(row_width, ' ');
  for (const auto& name : cols) header += pad_left(name, cell);
  fmt::print("  {}\n", header);
}
}  // namespace

void print_title(const std::string& title) {
  fmt::print("\n{}== {} =={}\n", bold(), title, reset());
}

void print_section(const std::string& text) {
  fmt::print("\n{}-- {}{}\n", bold(), text, reset());
}

void print_config(const std::string& key, const std::string& value) {
  fmt::print("  {}: {}\n", key, value);
}

void print_matrix(const std::string& label, const Matrix& m, const Labels& rows, const Labels& cols,
                  int decimals) {
  const auto [r, c] = shown_labels(m, rows, cols);
  const std::size_t n_rows = r.size(), n_cols = c.size();
  // Cell width: enough for "-123.4567" style numbers of what is shown and for every column label.
  double largest = 0.0;
  for (std::size_t i = 0; i < n_rows; ++i)
    for (std::size_t j = 0; j < n_cols; ++j) largest = std::max(largest, std::abs(m(i, j)));
  const std::size_t int_digits = largest >= 1.0 ? static_cast<std::size_t>(std::log10(largest)) + 1 : 1;
  const std::size_t cell = std::max(int_digits + decimals + 3, widest(c) + 1);
  const std::size_t row_width = widest(r);

  print_header(label, m, c, row_width, cell);
  for (std::size_t i = 0; i < n_rows; ++i) {
    std::string line = pad_right(r[i], row_width);
    for (std::size_t j = 0; j < n_cols; ++j) {
      // + 0.0 turns -0.0 into 0.0 so that tiny negative rounding never prints as "-0.0000".
      line += pad_left(fmt::format("{:.{}f}", m(i, j) + 0.0, decimals), cell);
    }
    fmt::print("  {}\n", line);
  }
  fmt::print("{}", left_out(m.shape(0), m.shape(1)));
}

void print_result(const std::string& label, const Matrix& m) {
  if (m.shape(0) <= 8 && m.shape(1) <= 8) {
    print_matrix(label, m);
  } else {
    double largest = 0;
    for (double x : m) largest = std::max(largest, std::abs(x));
    fmt::print("{} {}: largest |entry| {:.4g} (not printed: more than 8 rows or columns)\n", label,
               shape_of(m), largest);
  }
}

void print_vector(const std::string& label, const Vector& v, const Labels& names, int decimals) {
  fmt::print("{}{}{} {}\n", bold(), label, reset(), shape_of(v));
  const std::size_t n_cols = std::min(v.size(), kShownCols);
  Labels c = names.empty() ? numbered("", n_cols) : names;
  c.resize(n_cols);
  std::string header, line;
  const std::size_t cell = std::max<std::size_t>(decimals + 5, widest(c) + 1);
  for (std::size_t j = 0; j < n_cols; ++j) {
    header += pad_left(c[j], cell);
    line += pad_left(fmt::format("{:.{}f}", v(j) + 0.0, decimals), cell);
  }
  fmt::print("  {}\n  {}\n", header, line);
  fmt::print("{}", left_out(1, v.size()));
}

void print_heatmap(const std::string& label, const Matrix& m, const Labels& rows, const Labels& cols) {
  static const char* const bars[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  const auto [r, c] = shown_labels(m, rows, cols);
  const std::size_t n_rows = r.size(), n_cols = c.size();
  const std::size_t row_width = widest(r);
  const std::size_t cell = std::max<std::size_t>(6, widest(c) + 1);

  print_header(label, m, c, row_width, cell);
  for (std::size_t i = 0; i < n_rows; ++i) {
    std::string line = pad_right(r[i], row_width);
    for (std::size_t j = 0; j < n_cols; ++j) {
      const double x = std::clamp(m(i, j), 0.0, 1.0);
      const std::string number = fmt::format("{:.2f}", m(i, j) + 0.0);
      if (g_color) {
        // 256-colour grey ramp 232..255: darker = smaller weight; dark text on light cells.
        const int grey = 232 + static_cast<int>(std::lround(x * 23));
        const int text = grey > 245 ? 16 : 255;
        line +=
            " " + fmt::format("\033[48;5;{}m\033[38;5;{}m{}\033[0m", grey, text, pad_left(number, cell - 1));
      } else {
        const std::string bar = bars[static_cast<int>(std::lround(x * 8))];
        line += pad_left(bar + number, cell);
      }
    }
    fmt::print("  {}\n", line);
  }
  fmt::print("{}", left_out(m.shape(0), m.shape(1)));
}

void SelfChecks::close(const std::string& what, double error, double tolerance) {
  const bool ok = error <= tolerance;  // false for NaN
  if (ok) {
    fmt::print("{}: {}OK{} (max error {:.1e})\n", what, green(), reset(), error);
  } else {
    fmt::print("{}: {}FAILED{} (max error {:.1e} > tolerance {:.0e})\n", what, red(), reset(), error,
               tolerance);
    ++failures_;
  }
}

void SelfChecks::below(const std::string& what, double error, double tolerance) {
  const bool ok = error < tolerance;  // false for NaN
  fmt::print("{}: {}{}{} (max error {} {:.0e})\n", what, ok ? green() : red(), ok ? "OK" : "FAILED", reset(),
             ok ? "<" : ">=", tolerance);
  if (!ok) ++failures_;
}

void SelfChecks::expect(const std::string& what, bool ok, const std::string& detail) {
  const std::string note = detail.empty() ? "" : " (" + detail + ")";
  fmt::print("{}: {}{}{}{}\n", what, ok ? green() : red(), ok ? "OK" : "FAILED", reset(), note);
  if (!ok) ++failures_;
}

}  // namespace course

// Labelled printing for the chapter programs: titles, matrices with their shapes, terminal heatmaps
// and self-checks.
//
// Colour is used only when stdout is a terminal, NO_COLOR is unset and --no-color was not given;
// run_program() (cli.hpp) decides once and calls set_color().
#pragma once
#include "tensor.hpp"

#include <string>
#include <string_view>

namespace course {

void set_color(bool on);
bool color_enabled();

// Display width of a UTF-8 string in terminal columns: CJK characters count 2.
std::size_t display_width(std::string_view utf8);
// `text` padded with spaces on the right (or left) to `width` terminal columns.
std::string pad_right(const std::string& text, std::size_t width);
std::string pad_left(const std::string& text, std::size_t width);

// Numbered labels: numbered("q", 3) = {"q0", "q1", "q2"}.
Labels numbered(const std::string& prefix, std::size_t n);

// "== title ==" in bold, with a blank line before it.
void print_title(const std::string& title);
// A sub-heading: "-- text".
void print_section(const std::string& text);
// "  key: value" for the configuration block.
void print_config(const std::string& key, const std::string& value);

// label + shape, then the matrix with fixed `decimals`, e.g.
//   Q (3, 2)
//          d0       d1
//   cat  0.1000  -0.2000
// Row and column labels are optional (empty = numbered r0.. / c0..).
// At most 32 rows and 24 columns are shown (the first ones), then a line "... N more rows and M more
// columns not shown": a matrix read with --load may have millions of rows. The same holds for
// print_vector (24 entries) and print_heatmap.
void print_matrix(const std::string& label, const Matrix& m, const Labels& rows = {}, const Labels& cols = {},
                  int decimals = 4);
void print_vector(const std::string& label, const Vector& v, const Labels& names = {}, int decimals = 4);
// A result read or computed with --load: printed in full (print_matrix) when it has at most 8 rows and
// 8 columns, else its shape and its largest |entry| on one line.
void print_result(const std::string& label, const Matrix& m);

// A terminal heatmap of m (values expected in [0, 1], e.g. attention weights): each cell shows its
// value with two decimals; with colour the cell's background is shaded, without colour a bar
// glyph (" ▁▂▃▄▅▆▇█") in front of the number gives the shade.
void print_heatmap(const std::string& label, const Matrix& m, const Labels& rows, const Labels& cols);

// Closing self-checks: "rows sum to 1: OK (max error 2.2e-16)". Collects failures so that main()
// can return exit_code(): 0 when all passed, 1 otherwise.
class SelfChecks {
 public:
  // OK when error <= tolerance; prints the error with two significant digits.
  void close(const std::string& what, double error, double tolerance);
  // Like close(), but prints only "max error < tolerance": for comparisons whose last bits depend
  // on the machine (e.g. against OpenBLAS, whose kernels differ between CPUs), so output is the same
  // everywhere.
  void below(const std::string& what, double error, double tolerance);
  // OK when ok; `detail` goes in brackets after OK / FAILED.
  void expect(const std::string& what, bool ok, const std::string& detail = "");
  int exit_code() const { return failures_ == 0 ? 0 : 1; }

 private:
  int failures_ = 0;
};

}  // namespace course

// SVG figures for the docs, written by the chapter programs' --svg DIR. The files are plain text
// with fixed number formatting, so the same run always writes the same bytes (a test compares the
// committed figures in docs/figures/ with what the programs write).
#pragma once
#include "tensor.hpp"

#include <string>
#include <vector>

namespace course {

// A heatmap of m with labelled rows and columns, a title, the value in each cell and a colour bar.
// Colours run from vmin (dark) to vmax (light) on the viridis scale.
struct HeatmapSpec {
  std::string title;
  Labels rows, cols;     // empty: r0, r1, ... / c0, c1, ...
  std::string row_axis;  // e.g. "query (row i)"
  std::string col_axis;  // e.g. "key (column j)"
  double vmin = 0.0, vmax = 1.0;
  int decimals = 2;  // digits shown in each cell; -1 hides the values
};
void write_heatmap_svg(const std::string& dir, const std::string& file, const Matrix& m,
                       const HeatmapSpec& spec);

// A line plot of one or more series against the same x values.
struct Series {
  std::string name;
  std::vector<double> y;
};
struct PlotSpec {
  std::string title, x_label, y_label;
  bool log2_x = false;  // x axis in powers of two
  bool log10_y = false;
};
void write_line_plot_svg(const std::string& dir, const std::string& file, const std::vector<double>& x,
                         const std::vector<Series>& series, const PlotSpec& spec);

// Writes text to DIR/FILE, creating DIR; a usage_error if that fails.
void write_text_file(const std::string& dir, const std::string& file, const std::string& text);

}  // namespace course

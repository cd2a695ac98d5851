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

  // The same spec with another colour range or number of digits, for use in one expression:
  //   heatmap_spec(...).with_range(-1, 1).with_decimals(0)          (heatmap_spec: figures.hpp)
  HeatmapSpec with_range(double low, double high) const {
    HeatmapSpec s = *this;
    s.vmin = low;
    s.vmax = high;
    return s;
  }
  HeatmapSpec with_decimals(int digits) const {
    HeatmapSpec s = *this;
    s.decimals = digits;
    return s;
  }
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

// A picture and the attention of one of its patches drawn back onto it (chapter 08): on the left the
// picture with its P x P patches outlined, on the right the same picture darkened where the query
// patch's weight is low, each patch labelled with its weight; the query patch is outlined in yellow
// on both. Each pixel is drawn as a 14 x 14 square.
//   image (3, H, W) RGB in [0, 1], weights (N) = the query's row of attention weights over the
//   N = (H/P) * (W/P) patches, numbered row by row as image_to_patches does (chapter 08)
struct PatchOverlaySpec {
  std::string title;
  std::size_t patch = 1;  // P, divides H and W
  std::size_t query = 0;  // the patch whose weights are drawn, in [0, N)
  std::string left_caption, right_caption;
};
void write_patch_overlay_svg(const std::string& dir, const std::string& file, const Tensor3& image,
                             const Vector& weights, const PatchOverlaySpec& spec);

// Writes text to DIR/FILE, creating DIR; a usage_error if that fails.
void write_text_file(const std::string& dir, const std::string& file, const std::string& text);

}  // namespace course

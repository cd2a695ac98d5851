// Figures: everything a chapter program writes with --svg DIR goes through one object.
//
// API. Make one `Figures figures(opt.common);` at the start of run(). Its methods heatmap(file, m,
// spec), line_plot(file, x, series, spec) and patch_overlay(file, image, weights, spec) write
// DIR/file with the writers of svg.hpp when --svg DIR was given, and do nothing otherwise, so a
// program never tests `svg_dir.empty()` itself (use figures.enabled() only to skip work that exists
// for a figure alone). At the very end, after the self-checks, figures.report() prints one line
// listing what was written, "wrote 03-weights.svg, 03-weights-shuffled.svg to DIR", and nothing
// without --svg: every program reports its figures the same way. heatmap_spec(title, rows, cols,
// row_axis, col_axis) makes the usual attention heatmap's spec in one expression, and
// .with_range(vmin, vmax) / .with_decimals(d) adjust it in the same expression. The bytes written
// are exactly those of the svg.hpp writers (the docs_figures tests compare them).
//
//   Figures figures(opt.common);
//   figures.heatmap("03-weights.svg", r.weights,
//                   heatmap_spec("Self-attention weights", kTokens, kTokens, "query token", "key token"));
//   ...
//   figures.report();
#pragma once
#include "cli.hpp"
#include "svg.hpp"
#include "tensor.hpp"

#include <string>
#include <vector>

namespace course {

// The usual attention heatmap: values in [0, 1] with two decimals, rows = queries, columns = keys.
HeatmapSpec heatmap_spec(const std::string& title, const Labels& rows, const Labels& cols,
                         const std::string& row_axis = "query", const std::string& col_axis = "key");

class Figures {
 public:
  // Writes into options.svg_dir (--svg DIR); does nothing when it is empty.
  explicit Figures(const CommonOptions& options);

  // True when --svg DIR was given.
  bool enabled() const { return !dir_.empty(); }

  // write_heatmap_svg(DIR, file, m, spec)
  void heatmap(const std::string& file, const Matrix& m, const HeatmapSpec& spec);
  // write_line_plot_svg(DIR, file, x, series, spec)
  void line_plot(const std::string& file, const std::vector<double>& x, const std::vector<Series>& series,
                 const PlotSpec& spec);
  // write_patch_overlay_svg(DIR, file, image, weights, spec)
  void patch_overlay(const std::string& file, const Tensor3& image, const Vector& weights,
                     const PatchOverlaySpec& spec);

  // One line, "wrote a.svg, b.svg to DIR", with --svg; nothing without it. Call it once, last.
  void report() const;

  // The files written so far, in order.
  const std::vector<std::string>& written() const { return written_; }

 private:
  std::string dir_;
  std::vector<std::string> written_;
};

}  // namespace course

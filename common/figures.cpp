#include "figures.hpp"

#include <fmt/format.h>

namespace course {

HeatmapSpec heatmap_spec(const std::string& title, const Labels& rows, const Labels& cols,
                         const std::string& row_axis, const std::string& col_axis) {
  HeatmapSpec spec;
  spec.title = title;
  spec.rows = rows;
  spec.cols = cols;
  spec.row_axis = row_axis;
  spec.col_axis = col_axis;
  return spec;
}

Figures::Figures(const CommonOptions& options) : dir_(options.svg_dir) {}

void Figures::heatmap(const std::string& file, const Matrix& m, const HeatmapSpec& spec) {
  if (!enabled()) return;
  write_heatmap_svg(dir_, file, m, spec);
  written_.push_back(file);
}

void Figures::line_plot(const std::string& file, const std::vector<double>& x,
                        const std::vector<Series>& series, const PlotSpec& spec) {
  if (!enabled()) return;
  write_line_plot_svg(dir_, file, x, series, spec);
  written_.push_back(file);
}

void Figures::patch_overlay(const std::string& file, const Tensor3& image, const Vector& weights,
                            const PatchOverlaySpec& spec) {
  if (!enabled()) return;
  write_patch_overlay_svg(dir_, file, image, weights, spec);
  written_.push_back(file);
}

void Figures::report() const {
  if (!enabled()) return;
  if (written_.empty()) {
    fmt::print("wrote no figures to {}\n", dir_);
    return;
  }
  fmt::print("wrote {} to {}\n", fmt::join(written_, ", "), dir_);
}

}  // namespace course

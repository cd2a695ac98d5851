#include "svg.hpp"

#include "files.hpp"  // create_checked

#include "print.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace course {

namespace {

const char* const kFont =
    "font-family=\"Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, DejaVu Sans, sans-serif\"";

// XML-escape text for an SVG <text> element.
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

struct Rgb {
  double r, g, b;
};

// Viridis, sampled at five points and interpolated linearly; t in [0, 1].
Rgb viridis(double t) {
  static const Rgb stops[] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(t, 0.0, 1.0) * 4.0;
  const int k = std::min(3, static_cast<int>(t));
  const double f = t - k;
  const Rgb& a = stops[k];
  const Rgb& b = stops[k + 1];
  return {a.r + f * (b.r - a.r), a.g + f * (b.g - a.g), a.b + f * (b.b - a.b)};
}

std::string hex(const Rgb& c) {
  return fmt::format("#{:02x}{:02x}{:02x}", static_cast<int>(std::lround(c.r)),
                     static_cast<int>(std::lround(c.g)), static_cast<int>(std::lround(c.b)));
}

Labels or_default(const Labels& labels, const std::string& prefix, std::size_t n) {
  return labels.empty() ? numbered(prefix, n) : labels;
}

// Approximate width in pixels of text at font size 13 (CJK characters are twice as wide).
double text_px(const std::string& s) {
  return 7.5 * static_cast<double>(display_width(s));
}

// A "nice" tick step for a range, 1, 2 or 5 times a power of ten.
double nice_step(double range, int ticks) {
  const double raw = range / ticks;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * p) return m * p;
  }
  return 10.0 * p;
}

std::string tick_label(double v) {
  std::string s = fmt::format("{:.6g}", v + 0.0);
  return s;
}

}  // namespace

void write_text_file(const std::string& dir, const std::string& file, const std::string& text) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw usage_error(fmt::format("cannot create directory {} ({})", dir, ec.message()));
  const std::string path = (std::filesystem::path(dir) / file).string();
  std::ofstream out = create_checked(path);  // never a FIFO (it would block) or a directory
  out << text;
  if (!out) throw usage_error(fmt::format("cannot write {}", path));
}

void write_heatmap_svg(const std::string& dir, const std::string& file, const Matrix& m,
                       const HeatmapSpec& spec) {
  const std::size_t n_rows = m.shape(0), n_cols = m.shape(1);
  const Labels rows = or_default(spec.rows, "r", n_rows);
  const Labels cols = or_default(spec.cols, "c", n_cols);
  const double cell = 40.0;

  // 1. layout: row labels on the left, column labels on top (rotated when they do not fit)
  double row_label_w = 0.0, col_label_w = 0.0;
  for (const auto& r : rows) row_label_w = std::max(row_label_w, text_px(r));
  for (const auto& c : cols) col_label_w = std::max(col_label_w, text_px(c));
  const bool rotate = col_label_w > cell - 4.0;
  const double left = 20.0 + row_label_w + (spec.row_axis.empty() ? 0.0 : 22.0);
  const double top =
      40.0 + (rotate ? col_label_w * 0.72 + 10.0 : 20.0) + (spec.col_axis.empty() ? 0.0 : 20.0);
  const double grid_w = cell * n_cols, grid_h = cell * n_rows;
  const double width = std::max(left + grid_w + 90.0, 20.0 + text_px(spec.title) * 16.0 / 13.0);
  const double height = top + grid_h + 20.0;

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" viewBox=\"0 0 {:.0f} "
      "{:.0f}\" {}>\n",
      width, height, width, height, kFont);
  svg += fmt::format("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
  svg += fmt::format("<text x=\"{:.1f}\" y=\"24\" font-size=\"16\" font-weight=\"bold\">{}</text>\n", 10.0,
                     escape(spec.title));
  if (!spec.col_axis.empty()) {
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"46\" font-size=\"12\" fill=\"#555\" text-anchor=\"middle\">{}</text>\n",
        left + grid_w / 2, escape(spec.col_axis));
  }
  if (!spec.row_axis.empty()) {
    svg += fmt::format(
        "<text x=\"14\" y=\"{:.1f}\" font-size=\"12\" fill=\"#555\" text-anchor=\"middle\" "
        "transform=\"rotate(-90 14 {:.1f})\">{}</text>\n",
        top + grid_h / 2, top + grid_h / 2, escape(spec.row_axis));
  }

  // 2. the cells, with their values
  const double span = spec.vmax > spec.vmin ? spec.vmax - spec.vmin : 1.0;
  for (std::size_t i = 0; i < n_rows; ++i) {
    for (std::size_t j = 0; j < n_cols; ++j) {
      const double t = (m(i, j) - spec.vmin) / span;
      const double x = left + cell * j, y = top + cell * i;
      svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"/>\n",
                         x, y, cell, cell, hex(viridis(t)));
      if (spec.decimals >= 0) {
        svg += fmt::format(
            "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"middle\" "
            "fill=\"{}\">{:.{}f}</text>\n",
            x + cell / 2, y + cell / 2 + 4, t > 0.6 ? "black" : "white", m(i, j) + 0.0, spec.decimals);
      }
    }
  }

  // 3. labels
  for (std::size_t i = 0; i < n_rows; ++i) {
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"13\" text-anchor=\"end\">{}</text>\n",
                       left - 6, top + cell * i + cell / 2 + 5, escape(rows[i]));
  }
  for (std::size_t j = 0; j < n_cols; ++j) {
    const double x = left + cell * j + cell / 2, y = top - 8;
    if (rotate) {
      svg += fmt::format(
          "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"13\" text-anchor=\"start\" transform=\"rotate(-45 "
          "{:.1f} {:.1f})\">{}</text>\n",
          x, y, x, y, escape(cols[j]));
    } else {
      svg +=
          fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"13\" text-anchor=\"middle\">{}</text>\n",
                      x, y, escape(cols[j]));
    }
  }

  // 4. the colour bar
  const double bar_x = left + grid_w + 20, bar_h = std::max(grid_h, 80.0);
  const int steps = 32;
  for (int k = 0; k < steps; ++k) {
    const double t = 1.0 - (k + 0.5) / steps;
    svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"14\" height=\"{:.2f}\" fill=\"{}\"/>\n",
                       bar_x, top + bar_h * k / steps, bar_h / steps + 0.3, hex(viridis(t)));
  }
  for (int k = 0; k <= 4; ++k) {
    const double v = spec.vmax - (spec.vmax - spec.vmin) * k / 4.0;
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\">{}</text>\n", bar_x + 18,
                       top + bar_h * k / 4.0 + 4, tick_label(v));
  }
  svg += "</svg>\n";
  write_text_file(dir, file, svg);
}

void write_line_plot_svg(const std::string& dir, const std::string& file, const std::vector<double>& x,
                         const std::vector<Series>& series, const PlotSpec& spec) {
  const double width = 640, height = 400, left = 70, right = 170, top = 40, bottom = 50;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  const auto tx = [&](double v) { return spec.log2_x ? std::log2(v) : v; };
  const auto ty = [&](double v) { return spec.log10_y ? std::log10(v) : v; };

  // 1. data ranges (in transformed units)
  double x0 = tx(x.front()), x1 = tx(x.front()), y0 = INFINITY, y1 = -INFINITY;
  for (double v : x) {
    x0 = std::min(x0, tx(v));
    x1 = std::max(x1, tx(v));
  }
  for (const auto& s : series) {
    for (double v : s.y) {
      y0 = std::min(y0, ty(v));
      y1 = std::max(y1, ty(v));
    }
  }
  if (x1 == x0) x1 = x0 + 1;
  if (!spec.log10_y) y0 = std::min(y0, 0.0);
  if (y1 == y0) y1 = y0 + 1;
  const double ystep = spec.log10_y ? 1.0 : nice_step(y1 - y0, 5);
  y0 = std::floor(y0 / ystep) * ystep;
  y1 = std::ceil(y1 / ystep) * ystep;
  const auto px = [&](double v) { return left + (tx(v) - x0) / (x1 - x0) * plot_w; };
  const auto py = [&](double v) { return top + plot_h - (ty(v) - y0) / (y1 - y0) * plot_h; };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" viewBox=\"0 0 {:.0f} "
      "{:.0f}\" {}>\n",
      width, height, width, height, kFont);
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += fmt::format("<text x=\"{:.1f}\" y=\"24\" font-size=\"16\" font-weight=\"bold\">{}</text>\n", left,
                     escape(spec.title));

  // 2. axes, grid and ticks
  for (double v = y0; v <= y1 + 1e-9 * ystep; v += ystep) {
    const double y = top + plot_h - (v - y0) / (y1 - y0) * plot_h;
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n",
                       left, y, left + plot_w, y);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n",
                       left - 6, y + 4, tick_label(spec.log10_y ? std::pow(10.0, v) : v));
  }
  for (double v : x) {
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n",
                       px(v), top + plot_h + 16, tick_label(v));
  }
  svg += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#333\"/>\n",
      left, top, plot_w, plot_h);
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\">{}</text>\n",
                     left + plot_w / 2, height - 12, escape(spec.x_label));
  svg += fmt::format(
      "<text x=\"16\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 16 "
      "{:.1f})\">{}</text>\n",
      top + plot_h / 2, top + plot_h / 2, escape(spec.y_label));

  // 3. the series, with a legend on the right
  static const char* const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
  for (std::size_t s = 0; s < series.size(); ++s) {
    const char* color = colors[s % 6];
    std::string points;
    for (std::size_t k = 0; k < x.size() && k < series[s].y.size(); ++k) {
      points += fmt::format("{}{:.1f},{:.1f}", k ? " " : "", px(x[k]), py(series[s].y[k]));
    }
    svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", points,
                       color);
    for (std::size_t k = 0; k < x.size() && k < series[s].y.size(); ++k) {
      svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", px(x[k]),
                         py(series[s].y[k]), color);
    }
    const double ly = top + 14 + 20.0 * s;
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"/>\n",
        left + plot_w + 12, ly, left + plot_w + 32, ly, color);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\">{}</text>\n", left + plot_w + 38,
                       ly + 4, escape(series[s].name));
  }
  svg += "</svg>\n";
  write_text_file(dir, file, svg);
}

void write_patch_overlay_svg(const std::string& dir, const std::string& file, const Tensor3& image,
                             const Vector& weights, const PatchOverlaySpec& spec) {
  const std::size_t H = image.shape(1), W = image.shape(2), P = spec.patch;
  if (image.shape(0) != 3 || P == 0 || H % P != 0 || W % P != 0 || weights.size() != (H / P) * (W / P) ||
      spec.query >= weights.size()) {
    throw std::invalid_argument(fmt::format(
        "write_patch_overlay_svg: image {} (must be (3, H, W)), patch {}, {} weights, query {} do not fit",
        shape_of(image), P, weights.size(), spec.query));
  }
  const std::size_t rows = H / P, cols = W / P, px = 14;
  const std::size_t panel_w = W * px, panel_h = H * px, gap = 30, top = 40;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "font-family=\"DejaVu Sans, sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      2 * panel_w + 3 * gap, panel_h + top + gap, 2 * panel_w + 3 * gap, panel_h + top + gap);
  svg += fmt::format("<text x=\"{}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{}</text>\n", gap,
                     escape(spec.title));
  const auto colour = [&](std::size_t y, std::size_t x) {
    return fmt::format("#{:02x}{:02x}{:02x}", int(std::lround(255 * image(0, y, x))),
                       int(std::lround(255 * image(1, y, x))), int(std::lround(255 * image(2, y, x))));
  };
  double wmax = 0;
  for (std::size_t j = 0; j < weights.size(); ++j) wmax = std::max(wmax, weights(j));
  // two panels: 0 the picture with its patches outlined, 1 the picture darkened by 1 - weight / max
  for (int p = 0; p < 2; ++p) {
    const std::size_t x0 = gap + p * (panel_w + gap);
    for (std::size_t y = 0; y < H; ++y)
      for (std::size_t x = 0; x < W; ++x)
        svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\n", x0 + x * px,
                           top + y * px, px, px, colour(y, x));
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) {
        const std::size_t bx = x0 + c * P * px, by = top + r * P * px, side = P * px;
        if (p == 1) {
          const double w = weights(r * cols + c);
          svg += fmt::format(
              "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"black\" opacity=\"{:.3f}\"/>\n", bx,
              by, side, side, 0.85 * (1.0 - w / wmax));
          svg += fmt::format(
              "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" "
              "fill=\"white\">{:.2f}</text>\n",
              bx + side / 2, by + side / 2 + 4, w);
        }
        svg += fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#ffffff\" "
            "stroke-opacity=\"0.5\"/>\n",
            bx, by, side, side);
      }
    const std::size_t qr = spec.query / cols, qc = spec.query % cols;
    svg += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#ffdd00\" "
        "stroke-width=\"3\"/>\n",
        x0 + qc * P * px, top + qr * P * px, P * px, P * px);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#555\">{}</text>\n", x0,
                       top + panel_h + 18, escape(p == 0 ? spec.left_caption : spec.right_caption));
  }
  svg += "</svg>\n";
  write_text_file(dir, file, svg);
}

}  // namespace course

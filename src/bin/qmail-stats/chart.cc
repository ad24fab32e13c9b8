// chart.cc: SVG bar charts drawn by hand. Coordinates are whole or
// one-decimal numbers in a fixed viewBox; every text is escaped.
#include "chart.h"

#include <algorithm>
#include <cstdio>

namespace qng::stats {
namespace {

constexpr int kWidth = 960;
constexpr int kLeft = 56, kRight = 16, kTop = 28, kBottom = 44;
constexpr const char* kSuccess = "#2e7d32";
constexpr const char* kDeferral = "#f9a825";
constexpr const char* kFailure = "#c62828";
constexpr const char* kBar = "#1565c0";
constexpr size_t kMaxLabel = 100;

std::string f1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string svg_open(int height, std::string_view label) {
  return "<svg viewBox=\"0 0 " + std::to_string(kWidth) + " " + std::to_string(height) +
         "\" width=\"" + std::to_string(kWidth) + "\" height=\"" + std::to_string(height) +
         "\" role=\"img\" aria-label=\"" + escape_html(label) + "\">\n";
}

std::string text(double x, double y, std::string_view s, std::string_view cls,
                 std::string_view anchor = "middle") {
  return "<text x=\"" + f1(x) + "\" y=\"" + f1(y) + "\" class=\"" + std::string(cls) +
         "\" text-anchor=\"" + std::string(anchor) + "\">" + escape_html(s) + "</text>\n";
}

std::string rect(double x, double y, double w, double h, std::string_view fill,
                 std::string_view title) {
  return "<rect x=\"" + f1(x) + "\" y=\"" + f1(y) + "\" width=\"" + f1(w) + "\" height=\"" +
         f1(h) + "\" fill=\"" + std::string(fill) + "\"><title>" + escape_html(title) +
         "</title></rect>\n";
}

std::string line(double x1, double y1, double x2, double y2, std::string_view cls) {
  return "<line x1=\"" + f1(x1) + "\" y1=\"" + f1(y1) + "\" x2=\"" + f1(x2) + "\" y2=\"" + f1(y2) +
         "\" class=\"" + std::string(cls) + "\"/>\n";
}

// The y axis with grid lines from 0 to top; returns the pixel height of 1.
double y_axis(std::string& out, uint64_t top, uint64_t step, int height) {
  const double plot_h = height - kTop - kBottom;
  const double unit = plot_h / static_cast<double>(top);
  for (uint64_t v = 0; v <= top; v += step) {
    double y = height - kBottom - unit * static_cast<double>(v);
    out += line(kLeft, y, kWidth - kRight, y, v == 0 ? "axis" : "grid");
    out += text(kLeft - 6, y + 4, std::to_string(v), "tick", "end");
  }
  return unit;
}

std::string no_data(int height, std::string_view what) {
  std::string out = svg_open(height, what);
  out += text(kWidth / 2.0, height / 2.0, "no data", "empty");
  out += "</svg>\n";
  return out;
}

}  // namespace

std::string escape_html(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: {
        auto u = static_cast<unsigned char>(c);
        out += u < 32 || u > 126 ? '?' : c;
      }
    }
  }
  return out;
}

uint64_t nice_step(uint64_t max, uint64_t ticks) {
  if (ticks == 0) ticks = 1;
  for (uint64_t p = 1;; p *= 10) {
    for (uint64_t m : {1, 2, 5}) {
      uint64_t step = m * p;
      if (step >= max / ticks + (max % ticks ? 1 : 0)) return step;
    }
    if (p > UINT64_MAX / 100) return UINT64_MAX / 10;
  }
}

std::string svg_time_chart(const std::vector<TimeBin>& bins, int64_t bin_hours) {
  constexpr int kHeight = 300;
  const std::string what = "Delivery attempts per " +
                           (bin_hours == 1 ? std::string("hour") : std::to_string(bin_hours) + " hours");
  if (bins.empty()) return no_data(kHeight, what);
  uint64_t max = 1;
  for (const TimeBin& b : bins) max = std::max(max, b.counts.total());
  const uint64_t step = nice_step(max, 5);
  const uint64_t top = (max + step - 1) / step * step;

  std::string out = svg_open(kHeight, what);
  const double unit = y_axis(out, top, step, kHeight);
  const double slot = static_cast<double>(kWidth - kLeft - kRight) / static_cast<double>(bins.size());
  const double bar = std::clamp(slot * 0.8, 1.0, 48.0);
  const size_t every = (bins.size() + 7) / 8;
  for (size_t i = 0; i < bins.size(); ++i) {
    const TimeBin& b = bins[i];
    const double x = kLeft + slot * static_cast<double>(i) + (slot - bar) / 2;
    double y = kHeight - kBottom;
    const std::string when = format_hour(b.hour) + " UTC: ";
    const struct {
      uint64_t n;
      const char* colour;
      const char* name;
    } parts[] = {{b.counts.success, kSuccess, " successes"},
                 {b.counts.deferral, kDeferral, " deferrals"},
                 {b.counts.failure, kFailure, " failures"}};
    for (const auto& p : parts) {
      if (p.n == 0) continue;
      const double h = unit * static_cast<double>(p.n);
      y -= h;
      out += rect(x, y, bar, h, p.colour, when + std::to_string(p.n) + p.name);
    }
    if (i % every == 0) {
      std::string label = format_hour(b.hour);  // "2024-03-03 09:00"
      label = bin_hours < 24 ? label.substr(5) : label.substr(0, 10);
      out += text(x + bar / 2, kHeight - kBottom + 16, label, "tick");
    }
  }
  // Legend.
  double lx = kWidth - kRight - 300;
  const struct {
    const char* colour;
    const char* name;
  } legend[] = {{kSuccess, "success"}, {kDeferral, "deferral"}, {kFailure, "failure"}};
  for (const auto& l : legend) {
    out += "<rect x=\"" + f1(lx) + "\" y=\"8\" width=\"12\" height=\"12\" fill=\"" + l.colour +
           "\"/>\n";
    out += text(lx + 16, 18, l.name, "legend", "start");
    lx += 100;
  }
  out += "</svg>\n";
  return out;
}

std::string svg_histogram(const std::vector<std::string>& labels,
                          const std::vector<uint64_t>& values, std::string_view what) {
  constexpr int kHeight = 280;
  uint64_t max = 0;
  for (uint64_t v : values) max = std::max(max, v);
  if (values.empty() || max == 0) return no_data(kHeight, what);
  const uint64_t step = nice_step(max, 5);
  const uint64_t top = (max + step - 1) / step * step;

  std::string out = svg_open(kHeight, what);
  const double unit = y_axis(out, top, step, kHeight);
  const double slot = static_cast<double>(kWidth - kLeft - kRight) / static_cast<double>(values.size());
  const double bar = slot * 0.8;
  for (size_t i = 0; i < values.size(); ++i) {
    const double x = kLeft + slot * static_cast<double>(i) + (slot - bar) / 2;
    const double h = unit * static_cast<double>(values[i]);
    const std::string label = i < labels.size() ? labels[i] : std::string();
    if (values[i] > 0) {
      out += rect(x, kHeight - kBottom - h, bar, h, kBar,
                  label + ": " + std::to_string(values[i]));
      out += text(x + bar / 2, kHeight - kBottom - h - 4, std::to_string(values[i]), "value");
    }
    out += text(x + bar / 2, kHeight - kBottom + 16, label, "tick");
  }
  out += "</svg>\n";
  return out;
}

std::string svg_hbars(const std::vector<std::pair<std::string, uint64_t>>& rows,
                      std::string_view colour, std::string_view what) {
  constexpr int kRow = 40, kPad = 12;
  if (rows.empty()) return no_data(80, what);
  const int height = kPad * 2 + kRow * static_cast<int>(rows.size());
  uint64_t max = 1;
  for (const auto& r : rows) max = std::max(max, r.second);
  std::string out = svg_open(height, what);
  const double full = kWidth - 2 * kPad - 60;
  for (size_t i = 0; i < rows.size(); ++i) {
    const double y = kPad + kRow * static_cast<double>(i);
    std::string label = rows[i].first;
    if (label.size() > kMaxLabel) label = label.substr(0, kMaxLabel - 3) + "...";
    out += text(kPad, y + 12, label, "label", "start");
    const double w = std::max(2.0, full * static_cast<double>(rows[i].second) / static_cast<double>(max));
    out += rect(kPad, y + 17, w, 16, colour, rows[i].first + ": " + std::to_string(rows[i].second));
    out += text(kPad + w + 6, y + 30, std::to_string(rows[i].second), "value", "start");
  }
  out += "</svg>\n";
  return out;
}

}  // namespace qng::stats

// chart.h: the inline SVG charts of the HTML report. Plain SVG elements
// (rect, line, text, title for hover text), no script, no external
// reference, sized by a viewBox so they scale with the page.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report.h"

namespace qng::stats {

// &, <, >, " and ' as character references; other bytes as printable().
std::string escape_html(std::string_view s);

// Stacked bars of successes, deferrals and failures per time bin.
std::string svg_time_chart(const std::vector<TimeBin>& bins, int64_t bin_hours);
// One bar per bucket, labelled below.
std::string svg_histogram(const std::vector<std::string>& labels,
                          const std::vector<uint64_t>& values, std::string_view what);
// Horizontal bars, one per (label, value), label above its bar.
std::string svg_hbars(const std::vector<std::pair<std::string, uint64_t>>& rows,
                      std::string_view colour, std::string_view what);

// The smallest "nice" tick step (1, 2, 5 times a power of ten, at least 1)
// that covers `max` in at most `ticks` steps.
uint64_t nice_step(uint64_t max, uint64_t ticks);

}  // namespace qng::stats

// html.cc: the report as one self-contained HTML page: inline CSS, inline
// SVG charts, the tables of the text report; no script, no external URL.
#include <algorithm>

#include "chart.h"
#include "report.h"

namespace qng::stats {
namespace {

constexpr size_t kChartReasons = 10;

constexpr const char* kStyle = R"(
:root { color-scheme: light; }
body { margin: 0; background: #f4f6f8; color: #1f2933;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 6px; border-bottom: 2px solid #d0d7de; padding-bottom: 4px; }
.meta { color: #52606d; margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { background: #fff; border-radius: 8px; padding: 12px 16px; min-width: 130px;
  box-shadow: 0 1px 3px rgba(0,0,0,.12); }
.card .v { font-size: 24px; font-weight: 600; }
.card .k { color: #52606d; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card.ok .v { color: #2e7d32; } .card.bad .v { color: #c62828; } .card.warn .v { color: #b26a00; }
.sections { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 12px; }
.panel { background: #fff; border-radius: 8px; padding: 8px 16px 12px;
  box-shadow: 0 1px 3px rgba(0,0,0,.12); overflow-x: auto; }
.panel h3 { font-size: 15px; margin: 6px 0; }
table { border-collapse: collapse; width: 100%; }
table.data { width: auto; min-width: 50%; }
th, td { padding: 3px 8px; text-align: left; vertical-align: top; }
th { border-bottom: 1px solid #9aa5b1; font-weight: 600; white-space: nowrap; }
tr:nth-child(even) td { background: #f5f7fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.key { word-break: break-all; }
table.kv td:last-child { text-align: right; font-variant-numeric: tabular-nums; }
p.about, p.footer { color: #52606d; margin: 4px 0 8px; }
figure { margin: 12px 0; background: #fff; border-radius: 8px; padding: 12px;
  box-shadow: 0 1px 3px rgba(0,0,0,.12); }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: #323f4b; }
svg text.value { font-weight: 600; } svg text.label { font-size: 12px; }
svg text.empty { font-size: 16px; fill: #7b8794; }
svg line.grid { stroke: #e4e7eb; } svg line.axis { stroke: #7b8794; }
ul.notes li { margin: 4px 0; }
)";

std::string cell(const std::string& tag, const std::string& cls, const std::string& s) {
  return "<" + tag + (cls.empty() ? "" : " class=\"" + cls + "\"") + ">" + escape_html(s) + "</" +
         tag + ">";
}

void put_table(std::string& out, const TableModel& t) {
  out += "<section class=\"panel\" id=\"" + escape_html(t.id) + "\">\n<h3>" + escape_html(t.title) +
         "</h3>\n";
  if (!t.about.empty()) out += "<p class=\"about\">" + escape_html(t.about) + "</p>\n";
  out += "<table class=\"data\">\n<thead><tr>";
  for (const Column& c : t.columns) out += cell("th", c.numeric ? "num" : "", c.title);
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (size_t c = 0; c < t.columns.size(); ++c)
      out += cell("td", t.columns[c].numeric ? "num" : "key", row[c]);
    out += "</tr>\n";
  }
  if (t.rows.empty())
    out += "<tr><td colspan=\"" + std::to_string(t.columns.size()) + "\">(none)</td></tr>\n";
  out += "</tbody>\n</table>\n";
  if (!t.footer.empty()) out += "<p class=\"footer\">" + escape_html(t.footer) + "</p>\n";
  out += "</section>\n";
}

const TableModel* find_table(const ReportModel& m, std::string_view id) {
  for (const TableModel& t : m.tables)
    if (t.id == id) return &t;
  return nullptr;
}

std::string find_value(const ReportModel& m, std::string_view key) {
  for (const Section& s : m.sections)
    for (const KeyValue& kv : s.lines)
      if (kv.key == key) return kv.value;
  return "n/a";
}

// The first rows of a reasons table as (reason, deliveries) for a chart.
std::vector<std::pair<std::string, uint64_t>> top_reasons(const TableModel* t) {
  std::vector<std::pair<std::string, uint64_t>> rows;
  if (!t) return rows;
  for (const auto& row : t->rows) {
    if (rows.size() >= kChartReasons) break;
    rows.emplace_back(row[2], std::stoull(row[0]));
  }
  return rows;
}

void figure(std::string& out, const std::string& id, const std::string& caption,
            const std::string& svg) {
  out += "<figure id=\"" + id + "\">\n<figcaption>" + escape_html(caption) + "</figcaption>\n" +
         svg + "</figure>\n";
}

}  // namespace

std::string html_report(const Stats& s, const ReportOptions& opt) {
  const ReportModel m = build_model(s, opt);
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>qmail-stats report</title>\n<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n<main>\n<h1>qmail-stats: report on qmail-send's log</h1>\n";
  out += "<p class=\"meta\">";
  for (size_t i = 0; i < m.header.size(); ++i) out += (i ? "<br>" : "") + escape_html(m.header[i]);
  out += "</p>\n";

  // Headline figures.
  const struct {
    const char* key;
    const char* label;
    const char* cls;
  } cards[] = {{"Completed messages (end msg)", "messages", ""},
               {"Delivery attempts", "deliveries", ""},
               {"Successes", "successes", "ok"},
               {"Failures", "failures", "bad"},
               {"Deferrals", "deferrals", "warn"},
               {"Median ddelay per success (s)", "median ddelay (s)", ""},
               {"Average concurrency", "avg concurrency", ""}};
  out += "<div class=\"cards\">\n";
  for (const auto& c : cards)
    out += "<div class=\"card " + std::string(c.cls) + "\"><div class=\"v\">" +
           escape_html(find_value(m, c.key)) + "</div><div class=\"k\">" + c.label +
           "</div></div>\n";
  out += "</div>\n";

  out += "<h2>Overall</h2>\n<div class=\"sections\">\n";
  for (const Section& sec : m.sections) {
    out += "<section class=\"panel\">\n<h3>" + escape_html(sec.title) + "</h3>\n<table class=\"kv\">\n";
    for (const KeyValue& kv : sec.lines)
      out += "<tr>" + cell("td", "", kv.key) + cell("td", "num", kv.value) + "</tr>\n";
    out += "</table>\n</section>\n";
  }
  out += "</div>\n";

  out += "<h2>Charts</h2>\n";
  const std::string per = m.bin_hours == 1 ? "hour" : std::to_string(m.bin_hours) + " hours";
  figure(out, "chart-hourly", "Delivery attempts per " + per + " (UTC)",
         svg_time_chart(m.bins, m.bin_hours));
  std::vector<std::string> short_labels;  // "1s" for "<= 1s"; "> 7d" stays
  for (const std::string& l : m.ddist_labels)
    short_labels.push_back(l.compare(0, 3, "<= ") == 0 ? l.substr(3) : l);
  figure(out, "chart-ddist",
         "Delivery delay distribution (ddelay of successes; each bar: up to the delay shown)",
         svg_histogram(short_labels, std::vector<uint64_t>(s.ddist.begin(), s.ddist.end()),
                       "Delivery delay distribution"));
  figure(out, "chart-failures", "Top failure reasons",
         svg_hbars(top_reasons(find_table(m, "failures")), "#c62828", "Top failure reasons"));
  figure(out, "chart-deferrals", "Top deferral reasons",
         svg_hbars(top_reasons(find_table(m, "deferrals")), "#f9a825", "Top deferral reasons"));

  out += "<h2>Tables</h2>\n";
  for (const TableModel& t : m.tables) put_table(out, t);

  out += "<h2>Notes</h2>\n<ul class=\"notes\">\n";
  if (m.notes.empty()) out += "<li>(none)</li>\n";
  for (const std::string& n : m.notes) out += "<li>" + escape_html(n) + "</li>\n";
  out += "</ul>\n</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace qng::stats

// text.cc: the plain-text report: sections of "key: value" lines, then the
// tables in aligned columns (numbers right, text left), then the notes.
#include <algorithm>

#include "report.h"

namespace qng::stats {
namespace {

void pad(std::string& out, size_t n) { out.append(n, ' '); }

void put_table(std::string& out, const TableModel& t) {
  out += t.title;
  out += '\n';
  if (!t.about.empty()) out += "  " + t.about + "\n";
  std::vector<size_t> width(t.columns.size());
  for (size_t c = 0; c < t.columns.size(); ++c) {
    width[c] = t.columns[c].title.size();
    for (const auto& row : t.rows) width[c] = std::max(width[c], row[c].size());
  }
  auto put_row = [&](auto cell_of) {
    std::string line = " ";
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const std::string& cell = cell_of(c);
      line += ' ';
      const bool last = c + 1 == t.columns.size();
      if (t.columns[c].numeric) {
        pad(line, width[c] - cell.size());
        line += cell;
      } else {
        line += cell;
        if (!last) pad(line, width[c] - cell.size());
      }
      if (!last) line += ' ';
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  put_row([&](size_t c) -> const std::string& { return t.columns[c].title; });
  for (const auto& row : t.rows) put_row([&](size_t c) -> const std::string& { return row[c]; });
  if (t.rows.empty()) out += "  (none)\n";
  if (!t.footer.empty()) out += "  " + t.footer + "\n";
}

}  // namespace

std::string text_report(const Stats& s, const ReportOptions& opt) {
  const ReportModel m = build_model(s, opt);
  std::string out = "qmail-stats: report on qmail-send's log\n";
  for (const std::string& h : m.header) out += h + "\n";

  size_t key_width = 0;
  for (const Section& sec : m.sections)
    for (const KeyValue& kv : sec.lines) key_width = std::max(key_width, kv.key.size() + 1);
  for (const Section& sec : m.sections) {
    out += "\n" + sec.title + "\n";
    for (const KeyValue& kv : sec.lines) {
      out += "  " + kv.key + ":";
      pad(out, key_width - kv.key.size());
      out += kv.value + "\n";
    }
  }
  for (const TableModel& t : m.tables) {
    out += '\n';
    put_table(out, t);
  }
  out += "\nNotes\n";
  if (m.notes.empty()) out += "  (none)\n";
  for (const std::string& n : m.notes) out += "  - " + n + "\n";
  return out;
}

}  // namespace qng::stats

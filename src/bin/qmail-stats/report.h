// report.h: qmail-stats's reports. The figures of a Stats are laid out once
// as a ReportModel (sections of key/value lines and tables, as qmailanalog's
// zoverall, zddist, zfailures, zdeferrals, zsuccesses, zrhosts,
// zrecipients and zsenders show them), which the text and the HTML
// renderers both print, so the two always agree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "matchup.h"

namespace qng::stats {

struct ReportOptions {
  size_t top = 50;  // rows per table; 0 = all
  Window window;    // as given to the Matchup, for the header
  Limits limits;    // as given to the Matchup, for the notes
};

struct KeyValue {
  std::string key;
  std::string value;
};

struct Section {
  std::string title;
  std::vector<KeyValue> lines;
};

struct Column {
  std::string title;
  bool numeric;  // right-aligned
};

struct TableModel {
  std::string id;     // short name: "failures", "senders", ...
  std::string title;
  std::string about;  // one sentence on what the rows are
  std::vector<Column> columns;
  std::vector<std::vector<std::string>> rows;
  std::string footer;  // rows left out, an "(other)" row, ...
};

// One bar of the deliveries-over-time chart.
struct TimeBin {
  int64_t hour = 0;  // unix seconds / 3600 at the start of the bin
  Counts counts;
};

struct ReportModel {
  std::vector<std::string> header;  // period, lines read, window
  std::vector<Section> sections;
  std::vector<TableModel> tables;
  std::vector<std::string> notes;
  // Chart data.
  std::vector<TimeBin> bins;       // every bin from first to last, empty ones too
  int64_t bin_hours = 1;
  std::vector<std::string> ddist_labels;  // "<= 1s", ..., "> 7d"
};

ReportModel build_model(const Stats& s, const ReportOptions& opt);

std::string text_report(const Stats& s, const ReportOptions& opt);
std::string html_report(const Stats& s, const ReportOptions& opt);

// Helpers shared by the renderers.
std::string format_seconds(int64_t usec);       // "12.34"
std::string format_time(int64_t usec);          // "2024-03-03 09:05:01 UTC"
std::string format_hour(int64_t hour);          // "2024-03-03 09:00"
std::string format_fixed(double v, int digits);
// Bytes outside printable ASCII as "?", so that log text cannot smuggle
// terminal controls or invalid UTF-8 into a report.
std::string printable(std::string_view s);

}  // namespace qng::stats

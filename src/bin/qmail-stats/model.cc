// model.cc: the figures of a Stats laid out as sections and tables, in a
// fixed order with deterministic sorting (count down, then key up), so a
// report over the same log is the same bytes every time.
#include <time.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <utility>

#include "report.h"

namespace qng::stats {
namespace {

constexpr size_t kMaxBins = 168;
constexpr int64_t kBinWidths[] = {1, 2, 3, 6, 12, 24, 48, 168, 336, 720, 2160, 8760, 87600};

std::string num(uint64_t v) { return std::to_string(v); }

std::string ratio(uint64_t a, uint64_t b) {
  return b == 0 ? "n/a" : format_fixed(static_cast<double>(a) / static_cast<double>(b), 2);
}

std::string pct(uint64_t a, uint64_t b) {
  return b == 0 ? "n/a" : format_fixed(100.0 * static_cast<double>(a) / static_cast<double>(b), 1) + "%";
}

std::string avg_seconds(int64_t total, uint64_t n) {
  if (n == 0) return "n/a";
  return format_fixed(static_cast<double>(total) / 1e6 / static_cast<double>(n), 2);
}

std::string median_seconds(const Delays& d) {
  auto m = d.median();
  if (!m) return "n/a";
  return (d.exact() ? "" : "~") + format_seconds(*m);
}

// A total xdelay, or n/a when no delivery of the row had both stamps.
std::string xdelay_of(uint64_t timed, int64_t total) {
  return timed ? format_seconds(total) : "n/a";
}

std::string duration_label(int64_t usec) {
  int64_t s = usec / 1'000'000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  if (s < 86400) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

// Sorted keys of a table, biggest first by `weight`, ties by key.
template <class Row, class Weight>
std::vector<std::pair<std::string, const Row*>> sorted(const Table<Row>& t, Weight weight) {
  std::vector<std::pair<std::string, const Row*>> v;
  v.reserve(t.rows().size());
  for (const auto& [k, row] : t.rows()) v.emplace_back(k, &row);
  std::sort(v.begin(), v.end(), [&](const auto& a, const auto& b) {
    auto wa = weight(*a.second), wb = weight(*b.second);
    if (wa != wb) return wa > wb;
    return a.first < b.first;
  });
  return v;
}

// Fills t's rows from a sorted table: at most opt.top rows, then the
// "(other)" row of an overflowed table; says what was left out.
template <class Row, class Weight, class MakeRow>
void fill(TableModel& t, const Table<Row>& table, const ReportOptions& opt, Weight weight,
          MakeRow make_row) {
  auto rows = sorted(table, weight);
  size_t shown = opt.top == 0 ? rows.size() : std::min(rows.size(), opt.top);
  for (size_t i = 0; i < shown; ++i) t.rows.push_back(make_row(printable(rows[i].first), *rows[i].second));
  if (shown < rows.size())
    t.footer = std::to_string(rows.size() - shown) + " more rows not shown (--top 0 shows all).";
  if (table.overflowed()) {
    t.rows.push_back(make_row("(other)", table.other()));
    if (!t.footer.empty()) t.footer += ' ';
    t.footer += "More than " + std::to_string(opt.limits.max_keys) +
                " distinct keys: the rest are added up in \"(other)\".";
  }
}

void add_reason_table(ReportModel& m, const ReportOptions& opt, std::string id,
                      std::string title, std::string about, const Table<ReasonRow>& table) {
  TableModel t;
  t.id = std::move(id);
  t.title = std::move(title);
  t.about = std::move(about);
  t.columns = {{"deliveries", true}, {"xdelay (s)", true}, {"reason", false}};
  fill(t, table, opt, [](const ReasonRow& r) { return r.deliveries; },
       [](std::string key, const ReasonRow& r) {
         return std::vector<std::string>{num(r.deliveries), xdelay_of(r.timed, r.xdelay), std::move(key)};
       });
  m.tables.push_back(std::move(t));
}

void add_target_table(ReportModel& m, const ReportOptions& opt, std::string id, std::string title,
                      std::string about, std::string key_name, const Table<TargetRow>& table) {
  TableModel t;
  t.id = std::move(id);
  t.title = std::move(title);
  t.about = std::move(about);
  t.columns = {{"deliveries", true}, {"success", true}, {"failure", true}, {"deferral", true},
               {"sbytes", true},     {"xdelay (s)", true}, {std::move(key_name), false}};
  fill(t, table, opt, [](const TargetRow& r) { return r.counts.total(); },
       [](std::string key, const TargetRow& r) {
         return std::vector<std::string>{num(r.counts.total()), num(r.counts.success),
                                         num(r.counts.failure), num(r.counts.deferral),
                                         num(r.sbytes), xdelay_of(r.timed, r.xdelay), std::move(key)};
       });
  m.tables.push_back(std::move(t));
}

std::vector<TimeBin> make_bins(const Stats& s, int64_t& width) {
  std::vector<TimeBin> bins;
  width = 1;
  if (s.hourly.empty()) return bins;
  const int64_t first = s.hourly.begin()->first, last = s.hourly.rbegin()->first;
  for (int64_t w : kBinWidths) {
    width = w;
    if ((last / w - first / w) < static_cast<int64_t>(kMaxBins)) break;
  }
  const int64_t start = first / width;
  bins.resize(static_cast<size_t>(last / width - start + 1));
  for (size_t i = 0; i < bins.size(); ++i) bins[i].hour = (start + static_cast<int64_t>(i)) * width;
  for (const auto& [hour, c] : s.hourly) {
    Counts& b = bins[static_cast<size_t>(hour / width - start)].counts;
    b.success += c.success;
    b.failure += c.failure;
    b.deferral += c.deferral;
  }
  return bins;
}

void add_header(ReportModel& m, const Stats& s, const Window& w) {
  if (s.first && s.last)
    m.header.push_back("Period: " + format_time(*s.first) + " to " + format_time(*s.last) + " (" +
                       format_seconds(*s.last - *s.first) + " s)");
  else
    m.header.push_back("Period: unknown (no time stamps)");
  m.header.push_back("Lines read: " + num(s.lines) + " (TAI64N stamp " + num(s.lines_tai64n) +
                     ", unix stamp " + num(s.lines_unix) + ", no stamp " +
                     num(s.lines_unstamped) + ")");
  if (w.since || w.until)
    m.header.push_back("Window: " + (w.since ? "since " + format_time(*w.since) : std::string()) +
                       (w.since && w.until ? ", " : "") +
                       (w.until ? "until " + format_time(*w.until) + " (exclusive)" : std::string()));
}

void add_sections(ReportModel& m, const Stats& s) {
  const uint64_t attempts = s.channel[0].total() + s.channel[1].total();
  Section msgs{"Messages", {}};
  msgs.lines = {
      {"Messages queued (new msg)", num(s.msgs_new)},
      {"Completed messages (end msg)", num(s.msgs_done)},
      {"Bytes in completed messages", num(s.done_bytes)},
      {"Recipients for completed messages", num(s.done_recipients)},
      {"Delivery attempts for completed messages", num(s.done_attempts)},
      {"Average delivery attempts per completed message", ratio(s.done_attempts, s.msgs_done)},
      {"Bytes weighted by success", num(s.done_sbytes)},
      {"Average message qtime (s)", avg_seconds(s.qtime.total(), s.qtime.count())},
      {"Median message qtime (s)", median_seconds(s.qtime)},
      {"Bounces queued", num(s.bounces)},
      {"Triple bounces discarded", num(s.triple_bounces)},
  };
  m.sections.push_back(std::move(msgs));

  Section dels{"Deliveries", {}};
  dels.lines = {
      {"Delivery attempts", num(attempts)},
      {"Successes", num(s.channel[0].success + s.channel[1].success)},
      {"Failures", num(s.channel[0].failure + s.channel[1].failure)},
      {"Deferrals", num(s.channel[0].deferral + s.channel[1].deferral)},
      {"Local attempts", num(s.channel[0].total())},
      {"Remote attempts", num(s.channel[1].total())},
  };
  m.sections.push_back(std::move(dels));

  const int64_t span = s.first && s.last ? *s.last - *s.first : 0;
  Section delays{"Delays", {}};
  delays.lines = {
      {"Successes with a known ddelay", num(s.ddelay.count())},
      {"Total ddelay (s)", s.ddelay.count() ? format_seconds(s.ddelay.total()) : "n/a"},
      {"Average ddelay per success (s)", avg_seconds(s.ddelay.total(), s.ddelay.count())},
      {"Median ddelay per success (s)", median_seconds(s.ddelay)},
      {"Attempts with a known xdelay", num(s.xdelay.count())},
      {"Total xdelay (s)", s.xdelay.count() ? format_seconds(s.xdelay.total()) : "n/a"},
      {"Average xdelay per delivery attempt (s)", avg_seconds(s.xdelay.total(), s.xdelay.count())},
      {"Median xdelay per delivery attempt (s)", median_seconds(s.xdelay)},
      {"Time span (s)", s.first && s.last ? format_seconds(span) : "n/a"},
      {"Time span (days)",
       s.first && s.last ? format_fixed(static_cast<double>(span) / 86400e6, 2) : "n/a"},
      {"Average concurrency",
       span > 0 ? format_fixed(static_cast<double>(s.xdelay.total()) / static_cast<double>(span), 2)
                : "n/a"},
  };
  m.sections.push_back(std::move(delays));

  Section send{"qmail-send", {}};
  send.lines = {
      {"Peak concurrency, local",
       s.saw_status ? num(s.peak_local) + " of " + num(s.max_local) : "n/a"},
      {"Peak concurrency, remote",
       s.saw_status ? num(s.peak_remote) + " of " + num(s.max_remote) : "n/a"},
      {"Exits (status: exiting)", num(s.exits)},
      {"Restarts without status: exiting", num(s.restarts)},
      {"Alerts", num(s.alert_lines)},
      {"Warnings", num(s.warning_lines)},
  };
  m.sections.push_back(std::move(send));
}

void add_tables(ReportModel& m, const Stats& s, const ReportOptions& opt) {
  TableModel ch;
  ch.id = "channels";
  ch.title = "Deliveries by channel";
  ch.about = "Delivery attempts by result, local (qmail-lspawn) and remote (qmail-rspawn).";
  ch.columns = {{"result", false}, {"total", true}, {"local", true}, {"remote", true}};
  auto row = [](const char* name, uint64_t l, uint64_t r) {
    return std::vector<std::string>{name, num(l + r), num(l), num(r)};
  };
  ch.rows = {row("success", s.channel[0].success, s.channel[1].success),
             row("failure", s.channel[0].failure, s.channel[1].failure),
             row("deferral", s.channel[0].deferral, s.channel[1].deferral),
             row("all", s.channel[0].total(), s.channel[1].total())};
  m.tables.push_back(std::move(ch));

  TableModel dd;
  dd.id = "ddist";
  dd.title = "Delivery delay distribution";
  dd.about = "ddelay of successful deliveries: from new msg to the end of the delivery.";
  dd.columns = {{"ddelay", false}, {"deliveries", true}, {"pct", true}, {"cum pct", true}};
  uint64_t total = 0, cum = 0;
  for (uint64_t n : s.ddist) total += n;
  for (size_t i = 0; i < s.ddist.size(); ++i) {
    cum += s.ddist[i];
    dd.rows.push_back({m.ddist_labels[i], num(s.ddist[i]), pct(s.ddist[i], total), pct(cum, total)});
  }
  m.tables.push_back(std::move(dd));

  TableModel hr;
  hr.id = "hourly";
  hr.title = m.bin_hours == 1 ? "Deliveries per hour"
                              : "Deliveries per " + std::to_string(m.bin_hours) + " hours";
  hr.about = "Delivery attempts by the time they ended (UTC); empty periods are left out.";
  hr.columns = {{"from", false}, {"total", true}, {"success", true}, {"failure", true},
                {"deferral", true}};
  for (const TimeBin& b : m.bins) {
    if (b.counts.total() == 0) continue;
    hr.rows.push_back({format_hour(b.hour), num(b.counts.total()), num(b.counts.success),
                       num(b.counts.failure), num(b.counts.deferral)});
  }
  if (s.hourly_overflowed) hr.footer = "Too long a period: later hours are left out.";
  m.tables.push_back(std::move(hr));

  add_reason_table(m, opt, "failures", "Failures by reason",
                   "Permanent failures (bounced), by the report up to its first line break or "
                   "status code; xdelay is their total.",
                   s.failure_reasons);
  add_reason_table(m, opt, "deferrals", "Deferrals by reason",
                   "Temporary failures (tried again later), by reason.", s.deferral_reasons);
  add_reason_table(m, opt, "successes", "Successes by reason",
                   "Successful deliveries, by the report's first line.", s.success_reasons);
  add_target_table(m, opt, "domains", "Recipient domains",
                   "Delivery attempts by the recipient's domain; sbytes counts the bytes "
                   "delivered successfully.",
                   "domain", s.domains);
  add_target_table(m, opt, "recipients", "Recipients", "Delivery attempts by recipient.",
                   "recipient", s.recipients);

  TableModel se;
  se.id = "senders";
  se.title = "Senders";
  se.about = "Completed messages by envelope sender (<> for bounces), and the delivery "
             "attempts of the sender's messages.";
  se.columns = {{"messages", true}, {"bytes", true},      {"recipients", true}, {"deliveries", true},
                {"success", true},  {"failure", true},    {"deferral", true},   {"xdelay (s)", true},
                {"sender", false}};
  fill(se, s.senders, opt,
       [](const SenderRow& r) { return std::make_pair(r.messages, r.counts.total()); },
       [](std::string key, const SenderRow& r) {
         return std::vector<std::string>{num(r.messages),         num(r.bytes),
                                         num(r.recipients),       num(r.counts.total()),
                                         num(r.counts.success),   num(r.counts.failure),
                                         num(r.counts.deferral),  xdelay_of(r.timed, r.xdelay),
                                         std::move(key)};
       });
  m.tables.push_back(std::move(se));

  TableModel al;
  al.id = "alerts";
  al.title = "Alerts and warnings";
  al.about = "qmail-send's alert: and warning: lines, numbers shown as N.";
  al.columns = {{"lines", true}, {"text", false}};
  fill(al, s.alerts, opt, [](uint64_t n) { return n; },
       [](std::string key, uint64_t n) { return std::vector<std::string>{num(n), std::move(key)}; });
  m.tables.push_back(std::move(al));
}

void add_notes(ReportModel& m, const Stats& s, const Limits& limits) {
  auto note = [&m](uint64_t n, const char* what, const char* why) {
    if (n) m.notes.push_back(std::string(what) + ": " + std::to_string(n) + ". " + why);
  };
  if (s.lines > 0 && s.lines_unstamped == s.lines)
    m.notes.push_back("No line has a time stamp: delays, the time span, the concurrency and the "
                      "deliveries per hour cannot be computed.");
  else
    note(s.lines_unstamped, "Lines without a time stamp",
         "Delays, the time span and the concurrency leave them out.");
  note(s.lines_unstamped_skipped, "Lines without a time stamp skipped",
       "--since and --until cannot place them.");
  note(s.lines_before, "Lines before --since", "They were followed, not counted.");
  note(s.lines_after, "Lines at or after --until", "They were skipped.");
  note(s.lines_unrecognised, "Lines that are not qmail-send log lines", "They were ignored.");
  note(s.lines_continued, "Folded line tails (splogger's \"+\")", "They were ignored.");
  note(s.lines_truncated, "Overlong lines", "They were cut.");
  note(s.unmatched_results, "Delivery results without a start",
       "The log begins in the middle of them; they are not counted.");
  note(s.starts_unknown_msg, "Deliveries of messages queued before the log begins",
       "Their size and ddelay are unknown.");
  note(s.msgs_done_unknown, "Ends of messages queued before the log begins",
       "They are not counted as completed messages.");
  note(s.abandoned, "Deliveries without a result",
       "qmail-send restarted, or the log lost lines; they are not counted.");
  note(s.open_msgs, "Messages still in the queue at the end of the log", "");
  note(s.open_deliveries, "Deliveries still in progress at the end of the log", "");
  if (s.msgs_untracked)
    m.notes.push_back("State cap exceeded: more than " + std::to_string(limits.max_messages) +
                      " messages in flight at once; " + num(s.msgs_untracked) +
                      " messages were not followed (their deliveries count without size or "
                      "ddelay).");
  if (s.deliveries_untracked)
    m.notes.push_back("State cap exceeded: more than " + std::to_string(limits.max_deliveries) +
                      " deliveries in progress at once; " + num(s.deliveries_untracked) +
                      " deliveries were not followed.");
  if (!s.ddelay.exact() || !s.xdelay.exact() || !s.qtime.exact())
    m.notes.push_back("More than " + std::to_string(limits.max_samples) +
                      " delays: medians marked ~ are approximate (within 0.5%).");
  for (std::string& n : m.notes)
    if (n.size() > 2 && n.compare(n.size() - 2, 2, ". ") == 0) n.resize(n.size() - 1);
}

}  // namespace

std::string format_fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string format_seconds(int64_t usec) {
  char buf[64];
  const char* sign = usec < 0 ? "-" : "";
  uint64_t u = usec < 0 ? static_cast<uint64_t>(-(usec + 1)) + 1 : static_cast<uint64_t>(usec);
  u += 5000;  // round to hundredths
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%02" PRIu64, sign, u / 1'000'000,
                (u % 1'000'000) / 10'000);
  return buf;
}

std::string format_time(int64_t usec) {
  time_t t = static_cast<time_t>(usec / 1'000'000);
  struct tm tm {};
  char buf[64];
  if (!::gmtime_r(&t, &tm) || !std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm))
    return "?";
  return buf;
}

std::string format_hour(int64_t hour) {
  time_t t = static_cast<time_t>(hour * 3600);
  struct tm tm {};
  char buf[64];
  if (!::gmtime_r(&t, &tm) || !std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm)) return "?";
  return buf;
}

std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) c = '?';
  return out;
}

ReportModel build_model(const Stats& s, const ReportOptions& opt) {
  ReportModel m;
  for (int64_t bound : kDelayBounds) m.ddist_labels.push_back("<= " + duration_label(bound));
  m.ddist_labels.push_back("> " + duration_label(kDelayBounds.back()));
  m.bins = make_bins(s, m.bin_hours);
  add_header(m, s, opt.window);
  add_sections(m, s);
  add_tables(m, s, opt);
  add_notes(m, s, opt.limits);
  return m;
}

}  // namespace qng::stats

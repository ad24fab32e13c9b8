// run.cc: qmail-stats's arguments, reading the logs, writing the report.
#include "run.h"

#include <time.h>

#include <cstring>

#include "fd.h"
#include "io.h"
#include "size.h"

namespace qng::stats {
namespace {

constexpr size_t kMaxTop = 1'000'000;

bool digits(std::string_view s, size_t n) {
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

int two(std::string_view s, size_t at) { return (s[at] - '0') * 10 + (s[at + 1] - '0'); }

// "YYYY-MM-DD[ HH:MM[:SS]][Z]" in UTC.
std::optional<int64_t> parse_date(std::string_view s) {
  if (!s.empty() && s.back() == 'Z') s.remove_suffix(1);
  if (s.size() < 10 || !digits(s, 4) || s[4] != '-' || !digits(s.substr(5), 2) || s[7] != '-' ||
      !digits(s.substr(8), 2))
    return std::nullopt;
  struct tm tm {};
  tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + two(s, 2) - 1900;
  tm.tm_mon = two(s, 5) - 1;
  tm.tm_mday = two(s, 8);
  std::string_view rest = s.substr(10);
  if (!rest.empty()) {
    if ((rest[0] != ' ' && rest[0] != 'T') || rest.size() < 6 || !digits(rest.substr(1), 2) ||
        rest[3] != ':' || !digits(rest.substr(4), 2))
      return std::nullopt;
    tm.tm_hour = two(rest, 1);
    tm.tm_min = two(rest, 4);
    rest.remove_prefix(6);
    if (!rest.empty()) {
      if (rest.size() != 3 || rest[0] != ':' || !digits(rest.substr(1), 2)) return std::nullopt;
      tm.tm_sec = two(rest, 1);
    }
  }
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60 || tm.tm_year < 70)
    return std::nullopt;
  time_t t = ::timegm(&tm);
  if (t < 0) return std::nullopt;
  return static_cast<int64_t>(t) * 1'000'000;
}

Error usage(std::string what) { return Error::perm(std::move(what)); }

}  // namespace

const char kUsage[] =
    "usage: qmail-stats [--html] [--since TIME] [--until TIME] [--top N] [FILE...]\n"
    "Reads qmail-send log lines (FILEs in order, or standard input), follows\n"
    "each message and delivery, and prints qmailanalog's reports: plain text,\n"
    "or with --html one self-contained HTML page with charts.\n"
    "TIME: @TAI64N, unix seconds, or UTC YYYY-MM-DD[ HH:MM[:SS]].\n"
    "--since counts lines at or after TIME, --until lines before it.\n"
    "--top N shows N rows per table (default 50; 0 = all).\n";

std::optional<int64_t> parse_time(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s[0] == '@') return parse_tai64n(s);
  if (s.size() >= 5 && s[4] == '-') return parse_date(s);
  return parse_unix_time(s);
}

Result<Options> parse_args(const std::vector<std::string_view>& args) {
  Options opt;
  bool files_only = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (files_only || a == "-" || a.empty() || a[0] != '-') {
      opt.files.emplace_back(a);
      continue;
    }
    if (a == "--") {
      files_only = true;
      continue;
    }
    if (a == "--help") {
      opt.help = true;
      continue;
    }
    if (a == "--html") {
      opt.html = true;
      continue;
    }
    // Options with a value: "--opt VALUE" or "--opt=VALUE".
    std::string_view name = a, value;
    size_t eq = a.find('=');
    if (eq != std::string_view::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    } else if (a == "--since" || a == "--until" || a == "--top") {
      if (i + 1 >= args.size()) return usage(std::string(a) + " needs a value");
      value = args[++i];
    }
    if (name == "--since" || name == "--until") {
      auto t = parse_time(value);
      if (!t) return usage("bad time for " + std::string(name) + ": " + std::string(value));
      (name == "--since" ? opt.window.since : opt.window.until) = t;
    } else if (name == "--top") {
      auto n = parse_decimal(value, kMaxTop);
      if (!n) return usage("bad number for --top: " + std::string(value));
      opt.top = static_cast<size_t>(*n);
    } else {
      return usage("unknown option " + std::string(a));
    }
  }
  return opt;
}

Status feed_fd(int fd, Matchup& m) {
  Reader in(fd, 0, 65536);
  std::string line;
  bool truncated = false;
  char buf[65536];
  for (;;) {
    auto got = in.read(buf, sizeof buf);
    if (!got) return got.error();
    if (*got == 0) break;
    std::string_view chunk(buf, *got);
    while (!chunk.empty()) {
      size_t nl = chunk.find('\n');
      std::string_view part = chunk.substr(0, nl);
      if (fits(line.size(), part.size(), kMaxLine)) {
        line.append(part);
      } else {
        line.append(part.substr(0, kMaxLine - line.size()));
        truncated = true;
      }
      if (nl == std::string_view::npos) break;
      m.feed(line, truncated);
      line.clear();
      truncated = false;
      chunk.remove_prefix(nl + 1);
    }
  }
  if (!line.empty() || truncated) m.feed(line, truncated);
  return {};
}

int run(const Options& opt) {
  ReportOptions ropt;
  ropt.top = opt.top;
  ropt.window = opt.window;
  Matchup m(ropt.limits, opt.window);
  std::vector<std::string> files = opt.files;
  if (files.empty()) files.emplace_back("-");
  for (const std::string& f : files) {
    Status st;
    if (f == "-") {
      st = feed_fd(0, m);
    } else {
      auto fd = open_read(f);
      if (!fd) {
        (void)write_all(2, "qmail-stats: fatal: " + fd.error().message() + "\n");
        return 111;
      }
      st = feed_fd(fd->get(), m);
    }
    if (!st) {
      (void)write_all(2, "qmail-stats: fatal: unable to read " + f + ": " +
                          std::strerror(st.error().code()) + "\n");
      return 111;
    }
  }
  m.finish();
  const std::string report = opt.html ? html_report(m.stats(), ropt) : text_report(m.stats(), ropt);
  Status w = write_all(1, report);
  if (!w) {
    (void)write_all(2, std::string("qmail-stats: fatal: unable to write the report: ") +
                        std::strerror(w.error().code()) + "\n");
    return 111;
  }
  return 0;
}

}  // namespace qng::stats

// logline.cc: time stamps and qmail-send's log events, parsed strictly:
// a line that does not match a format exactly is kOther, never a guess.
#include "logline.h"

#include "size.h"

namespace qng::stats {
namespace {

constexpr uint64_t kTaiOffset = (uint64_t{1} << 62) + 10;  // TAI64 label of 1970
constexpr uint64_t kMaxSeconds = 9'000'000'000'000;        // usec fits in int64

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Removes prefix p from s; false (s unchanged) when s does not start with it.
bool eat(std::string_view& s, std::string_view p) {
  if (!starts_with(s, p)) return false;
  s.remove_prefix(p.size());
  return true;
}

// A decimal number up to the first `delim` (or the end when delim is empty),
// which is consumed too.
std::optional<uint64_t> eat_number(std::string_view& s, std::string_view delim) {
  size_t end = delim.empty() ? s.size() : s.find(delim);
  if (end == std::string_view::npos) return std::nullopt;
  auto v = parse_decimal(s.substr(0, end));
  if (!v) return std::nullopt;
  s.remove_prefix(end + delim.size());
  return v;
}

std::optional<uint64_t> parse_hex(std::string_view s) {
  uint64_t v = 0;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9')
      d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = static_cast<unsigned>(c - 'A' + 10);
    else
      return std::nullopt;
    if (v > (UINT64_MAX >> 4)) return std::nullopt;
    v = (v << 4) | d;
  }
  return v;
}

// "L/M" of a status line.
bool parse_pair(std::string_view s, uint64_t& used, uint64_t& max) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  auto u = parse_decimal(s.substr(0, slash));
  auto m = parse_decimal(s.substr(slash + 1));
  if (!u || !m) return false;
  used = *u;
  max = *m;
  return true;
}

std::string_view next_word(std::string_view& s) {
  size_t sp = s.find(' ');
  std::string_view w = s.substr(0, sp);
  s = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
  return w;
}

bool parse_status(std::string_view s, Event& e) {
  if (next_word(s) != "local" || !parse_pair(next_word(s), e.local_used, e.local_max)) return false;
  if (next_word(s) != "remote" || !parse_pair(next_word(s), e.remote_used, e.remote_max))
    return false;
  return s.empty() || s == "exitasap";
}

bool parse_info(std::string_view s, Event& e) {
  auto msg = eat_number(s, ": bytes ");
  if (!msg) return false;
  auto bytes = eat_number(s, " from <");
  if (!bytes) return false;
  size_t end = s.rfind("> qp ");
  if (end == std::string_view::npos) return false;
  e.sender = s.substr(0, end);
  s.remove_prefix(end + 5);
  auto qp = eat_number(s, " uid ");
  auto uid = qp ? eat_number(s, "") : std::nullopt;
  if (!uid) return false;
  e.msg = *msg;
  e.bytes = *bytes;
  e.qp = *qp;
  e.uid = *uid;
  return true;
}

bool parse_start(std::string_view s, Event& e) {
  auto d = eat_number(s, ": msg ");
  if (!d) return false;
  auto msg = eat_number(s, " to ");
  if (!msg) return false;
  if (eat(s, "remote "))
    e.remote = true;
  else if (!eat(s, "local "))
    return false;
  e.delivery = *d;
  e.msg = *msg;
  e.recipient = s;
  return true;
}

bool parse_delivery(std::string_view s, Event& e) {
  auto d = eat_number(s, ": ");
  if (!d) return false;
  e.delivery = *d;
  struct Word {
    std::string_view word;
    Outcome outcome;
  };
  static constexpr Word kWords[] = {{"success:", Outcome::kSuccess},
                                    {"failure:", Outcome::kFailure},
                                    {"deferral:", Outcome::kDeferral}};
  for (const Word& w : kWords) {
    if (!eat(s, w.word)) continue;
    if (!s.empty() && !eat(s, " ")) return false;
    e.outcome = w.outcome;
    e.text = s;
    return true;
  }
  if (s != "report mangled, will defer") return false;
  e.outcome = Outcome::kDeferral;
  e.mangled = true;
  e.text = s;
  return true;
}

bool parse_bounce(std::string_view s, Event& e) {
  auto msg = eat_number(s, " qp ");
  auto qp = msg ? eat_number(s, "") : std::nullopt;
  if (!qp) return false;
  e.msg = *msg;
  e.qp = *qp;
  return true;
}

bool parse_number_to_end(std::string_view s, uint64_t& out) {
  auto v = parse_decimal(s);
  if (!v) return false;
  out = *v;
  return true;
}

// One event of the table below: on success fills e and returns true.
Event classify(std::string_view s) {
  Event e;
  auto set = [&e](EventType t, bool ok) {
    e.type = ok ? t : EventType::kOther;
    return e;
  };
  if (s == "status: exiting") return set(EventType::kExiting, true);
  if (eat(s, "status: ")) return set(EventType::kStatus, parse_status(s, e));
  if (eat(s, "new msg ")) return set(EventType::kNewMsg, parse_number_to_end(s, e.msg));
  if (eat(s, "info msg ")) return set(EventType::kInfoMsg, parse_info(s, e));
  if (eat(s, "starting delivery ")) return set(EventType::kStart, parse_start(s, e));
  if (eat(s, "delivery ")) return set(EventType::kDelivery, parse_delivery(s, e));
  if (eat(s, "bounce msg ")) return set(EventType::kBounce, parse_bounce(s, e));
  if (eat(s, "triple bounce: discarding bounce/"))
    return set(EventType::kTripleBounce, parse_number_to_end(s, e.msg));
  if (eat(s, "end msg ")) return set(EventType::kEndMsg, parse_number_to_end(s, e.msg));
  if (eat(s, "alert: ")) {
    e.text = s;
    return set(EventType::kAlert, true);
  }
  if (eat(s, "warning: ")) {
    e.text = s;
    return set(EventType::kWarning, true);
  }
  return set(EventType::kOther, true);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of an "x.y.z" status code (digits.digits.digits) at the start of s,
// or 0.
size_t code_length(std::string_view s) {
  size_t i = 0;
  for (int part = 0; part < 3; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return 0;
      ++i;
    }
    size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start) return 0;
  }
  return i;
}

}  // namespace

std::optional<int64_t> parse_tai64n(std::string_view s) {
  if (!eat(s, "@") || (s.size() != 24 && s.size() != 16)) return std::nullopt;
  auto label = parse_hex(s.substr(0, 16));
  auto nano = s.size() == 24 ? parse_hex(s.substr(16)) : std::optional<uint64_t>(0);
  if (!label || !nano || *nano >= 1'000'000'000) return std::nullopt;
  if (*label < kTaiOffset || *label - kTaiOffset > kMaxSeconds) return std::nullopt;
  return static_cast<int64_t>((*label - kTaiOffset) * 1'000'000 + *nano / 1000);
}

std::optional<int64_t> parse_unix_time(std::string_view s) {
  size_t dot = s.find('.');
  auto secs = parse_decimal(s.substr(0, dot), kMaxSeconds);
  if (!secs) return std::nullopt;
  uint64_t usec = 0;
  if (dot != std::string_view::npos) {
    std::string_view frac = s.substr(dot + 1);
    if (frac.empty() || frac.size() > 9 || !parse_decimal(frac)) return std::nullopt;
    for (size_t i = 0; i < 6; ++i)
      usec = usec * 10 + (i < frac.size() ? static_cast<uint64_t>(frac[i] - '0') : 0);
  }
  return static_cast<int64_t>(*secs * 1'000'000 + usec);
}

StampedLine split_stamp(std::string_view line) {
  StampedLine out;
  out.text = line;
  if (starts_with(line, "@")) {
    size_t sp = line.find(' ');
    if (auto t = parse_tai64n(line.substr(0, sp))) {
      out.kind = StampKind::kTai64n;
      out.usec = *t;
      out.text = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    }
    return out;
  }
  // splogger/accustamp: "SECONDS.FRACTION " (or "+" on a folded tail),
  // at the start or after a syslog prefix ending in ": ".
  std::string_view rest = line;
  if (rest.empty() || !is_digit(rest[0])) {
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos) return out;
    rest = line.substr(colon + 2);
  }
  size_t end = rest.find_first_of(" +");
  if (end == std::string_view::npos || end == 0 || !is_digit(rest[0])) return out;
  auto t = parse_unix_time(rest.substr(0, end));
  if (!t) return out;
  out.kind = StampKind::kUnix;
  out.usec = *t;
  out.continuation = rest[end] == '+';
  out.text = rest.substr(end + 1);
  return out;
}

Event parse_event(std::string_view text) { return classify(text); }

std::string_view reason_of(std::string_view report) {
  size_t end = report.find('/');
  for (size_t i = report.find('#'); i != std::string_view::npos && i < end;
       i = report.find('#', i + 1)) {
    size_t n = code_length(report.substr(i + 1));
    if (n == 0) continue;
    size_t stop = i + 1 + n;
    if (stop < report.size() && report[stop] == ')') ++stop;
    end = stop;
    break;
  }
  return report.substr(0, end);
}

std::string domain_of(std::string_view recipient) {
  size_t at = recipient.rfind('@');
  std::string d(at == std::string_view::npos ? recipient : recipient.substr(at + 1));
  for (char& c : d)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return d;
}

}  // namespace qng::stats

// matchup.cc: the matchup of starts and ends, and the sums of the reports.
// See matchup.h for the rules that keep delivery numbers straight across
// restarts of qmail-send.
#include "matchup.h"

#include <algorithm>
#include <cmath>

namespace qng::stats {
namespace {

constexpr int64_t kUsecPerHour = 3'600'000'000;
constexpr size_t kMaxHours = 200'000;   // about 23 years of hourly counts
constexpr size_t kMaxAlertText = 100;
constexpr double kBinRatio = 1.005;     // binned medians: within 0.5%

uint64_t sat_add(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

uint64_t sat_mul(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

int bin_of(int64_t usec) {
  if (usec < 1000) return 0;
  return 1 + static_cast<int>(std::log(static_cast<double>(usec) / 1000.0) / std::log(kBinRatio));
}

int64_t bin_value(int bin) {
  if (bin == 0) return 0;
  return static_cast<int64_t>(1000.0 * std::pow(kBinRatio, bin - 0.5));
}

// An alert or warning as a table key: runs of digits become "N", so that
// "unable to stat mess/3/1234" lines add up.
std::string alert_key(std::string_view prefix, std::string_view text) {
  std::string key(prefix);
  bool in_number = false;
  for (char c : text) {
    if (key.size() >= kMaxAlertText) break;
    if (c >= '0' && c <= '9') {
      if (!in_number) key += 'N';
      in_number = true;
      continue;
    }
    in_number = false;
    key += c;
  }
  return key;
}

std::string sender_key(const std::string& sender) { return sender.empty() ? "<>" : sender; }

}  // namespace

void Delays::add(int64_t usec) {
  if (usec < 0) usec = 0;
  ++count_;
  total_ = sat_add(total_, usec);
  if (binned_) {
    ++bins_[bin_of(usec)];
    return;
  }
  samples_.push_back(usec);
  if (samples_.size() <= max_samples_) return;
  for (int64_t v : samples_) ++bins_[bin_of(v)];
  samples_.clear();
  samples_.shrink_to_fit();
  binned_ = true;
}

std::optional<int64_t> Delays::median() const {
  if (count_ == 0) return std::nullopt;
  if (binned_) {
    uint64_t want = (count_ + 1) / 2, seen = 0;
    for (const auto& [bin, n] : bins_) {
      seen += n;
      if (seen >= want) return bin_value(bin);
    }
    return bin_value(bins_.rbegin()->first);
  }
  size_t mid = samples_.size() / 2;
  std::nth_element(samples_.begin(), samples_.begin() + static_cast<ptrdiff_t>(mid),
                   samples_.end());
  int64_t hi = samples_[mid];
  if (samples_.size() % 2) return hi;
  int64_t lo = *std::max_element(samples_.begin(), samples_.begin() + static_cast<ptrdiff_t>(mid));
  return lo + (hi - lo) / 2;
}

void Counts::add(Outcome o) {
  switch (o) {
    case Outcome::kSuccess: ++success; break;
    case Outcome::kFailure: ++failure; break;
    case Outcome::kDeferral: ++deferral; break;
  }
}

Matchup::Matchup(const Limits& limits, const Window& window)
    : limits_(limits), window_(window), stats_(limits) {
  stats_.windowed = window.since || window.until;
}

void Matchup::feed(std::string_view line, bool truncated) {
  ++stats_.lines;
  if (truncated) ++stats_.lines_truncated;
  StampedLine sl = split_stamp(line);
  std::optional<int64_t> t;
  switch (sl.kind) {
    case StampKind::kTai64n: ++stats_.lines_tai64n; t = sl.usec; break;
    case StampKind::kUnix: ++stats_.lines_unix; t = sl.usec; break;
    case StampKind::kNone: ++stats_.lines_unstamped; break;
  }
  if (sl.continuation) {
    ++stats_.lines_continued;
    return;
  }
  bool counted = true;
  if (stats_.windowed) {
    if (!t) {
      ++stats_.lines_unstamped_skipped;
      return;
    }
    if (window_.until && *t >= *window_.until) {
      ++stats_.lines_after;
      return;
    }
    if (window_.since && *t < *window_.since) {
      ++stats_.lines_before;
      counted = false;
    }
  }
  Event e = parse_event(sl.text);
  if (e.type == EventType::kOther) {
    ++stats_.lines_unrecognised;
    return;
  }
  if (counted && t) {
    if (!stats_.first || *t < *stats_.first) stats_.first = t;
    if (!stats_.last || *t > *stats_.last) stats_.last = t;
  }
  apply(e, t, counted);
}

void Matchup::apply(const Event& e, std::optional<int64_t> t, bool counted) {
  switch (e.type) {
    case EventType::kStatus:
      if (counted) {
        stats_.saw_status = true;
        stats_.peak_local = std::max(stats_.peak_local, e.local_used);
        stats_.peak_remote = std::max(stats_.peak_remote, e.remote_used);
        stats_.max_local = e.local_max;
        stats_.max_remote = e.remote_max;
      }
      return on_status(e);
    case EventType::kExiting:
      if (counted) ++stats_.exits;
      drop_open_deliveries();
      last_delivery_ = 0;
      return;
    case EventType::kNewMsg: {
      if (counted) ++stats_.msgs_new;
      auto it = msgs_.find(e.msg);
      if (it == msgs_.end() && msgs_.size() >= limits_.max_messages) {
        ++stats_.msgs_untracked;
        return;
      }
      msgs_[e.msg] = Msg{t, 0, false, {}, {}};
      return;
    }
    case EventType::kInfoMsg: {
      auto it = msgs_.find(e.msg);
      if (it == msgs_.end()) {
        if (msgs_.size() >= limits_.max_messages) return;  // counted at new msg
        it = msgs_.emplace(e.msg, Msg{}).first;
      }
      it->second.bytes = e.bytes;
      it->second.has_info = true;
      it->second.sender = std::string(e.sender.substr(0, limits_.max_stored_text));
      return;
    }
    case EventType::kStart:
      return on_start(e, t, counted);
    case EventType::kDelivery:
      return on_delivery(e, t, counted);
    case EventType::kBounce:
      if (counted) ++stats_.bounces;
      return;
    case EventType::kTripleBounce:
      if (counted) ++stats_.triple_bounces;
      return;
    case EventType::kEndMsg:
      return on_end(e, t, counted);
    case EventType::kAlert:
    case EventType::kWarning:
      if (!counted) return;
      if (e.type == EventType::kAlert) {
        ++stats_.alert_lines;
        ++stats_.alerts.at(alert_key("alert: ", e.text));
      } else {
        ++stats_.warning_lines;
        ++stats_.alerts.at(alert_key("warning: ", e.text));
      }
      return;
    case EventType::kOther:
      return;
  }
}

// A status line counts the deliveries in progress exactly: more open ones
// than that are left over from an earlier run whose end the log lacks.
void Matchup::on_status(const Event& e) {
  if (open_count_[0] > e.local_used) drop_oldest(false, e.local_used);
  if (open_count_[1] > e.remote_used) drop_oldest(true, e.remote_used);
}

void Matchup::on_start(const Event& e, std::optional<int64_t> t, bool counted) {
  if (e.delivery <= last_delivery_) {  // numbering started again: a restart
    if (counted) ++stats_.restarts;
    drop_open_deliveries();
  }
  last_delivery_ = e.delivery;
  if (open_.size() >= limits_.max_deliveries) {
    ++stats_.deliveries_untracked;
    return;
  }
  if (counted && msgs_.find(e.msg) == msgs_.end()) ++stats_.starts_unknown_msg;
  Open& o = open_[e.delivery];
  o.msg = e.msg;
  o.remote = e.remote;
  o.start = t;
  o.recipient = std::string(e.recipient.substr(0, limits_.max_stored_text));
  ++open_count_[e.remote ? 1 : 0];
}

void Matchup::on_delivery(const Event& e, std::optional<int64_t> t, bool counted) {
  auto it = open_.find(e.delivery);
  if (it == open_.end()) {
    if (counted) ++stats_.unmatched_results;
    return;
  }
  Open o = std::move(it->second);
  open_.erase(it);
  --open_count_[o.remote ? 1 : 0];
  auto mit = msgs_.find(o.msg);
  Msg* m = mit == msgs_.end() ? nullptr : &mit->second;
  if (m) m->counts.add(e.outcome);
  if (!counted) return;

  const bool success = e.outcome == Outcome::kSuccess;
  stats_.channel[o.remote ? 1 : 0].add(e.outcome);
  std::optional<int64_t> x;
  if (t && o.start) {
    x = std::max<int64_t>(0, *t - *o.start);
    stats_.xdelay.add(*x);
  }
  if (success && t && m && m->birth) {
    int64_t d = std::max<int64_t>(0, *t - *m->birth);
    stats_.ddelay.add(d);
    size_t b = 0;
    while (b < kDelayBounds.size() && d > kDelayBounds[b]) ++b;
    ++stats_.ddist[b];
  }
  if (t) {
    int64_t hour = *t / kUsecPerHour;
    auto h = stats_.hourly.find(hour);
    if (h != stats_.hourly.end())
      h->second.add(e.outcome);
    else if (stats_.hourly.size() < kMaxHours)
      stats_.hourly[hour].add(e.outcome);
    else
      stats_.hourly_overflowed = true;
  }
  const int64_t xd = x.value_or(0);
  const uint64_t timed = x ? 1 : 0;

  std::string_view reason = e.mangled ? std::string_view("report mangled") : reason_of(e.text);
  if (reason.empty()) reason = "(empty)";
  Table<ReasonRow>& reasons = success                       ? stats_.success_reasons
                              : e.outcome == Outcome::kFailure ? stats_.failure_reasons
                                                               : stats_.deferral_reasons;
  ReasonRow& r = reasons.at(reason);
  ++r.deliveries;
  r.timed += timed;
  r.xdelay = sat_add(r.xdelay, xd);

  const uint64_t sbytes = success && m ? m->bytes : 0;
  for (TargetRow* row : {&stats_.domains.at(domain_of(o.recipient)),
                         &stats_.recipients.at(o.recipient)}) {
    row->counts.add(e.outcome);
    row->sbytes = sat_add(row->sbytes, sbytes);
    row->timed += timed;
    row->xdelay = sat_add(row->xdelay, xd);
  }
  SenderRow& s = stats_.senders.at(m && m->has_info ? sender_key(m->sender) : "(unknown)");
  s.counts.add(e.outcome);
  s.timed += timed;
  s.xdelay = sat_add(s.xdelay, xd);
}

void Matchup::on_end(const Event& e, std::optional<int64_t> t, bool counted) {
  auto it = msgs_.find(e.msg);
  if (it == msgs_.end()) {
    if (counted) ++stats_.msgs_done_unknown;
    return;
  }
  Msg m = std::move(it->second);
  msgs_.erase(it);
  if (!counted) return;
  ++stats_.msgs_done;
  const uint64_t recips = m.counts.success + m.counts.failure;
  stats_.done_bytes = sat_add(stats_.done_bytes, m.bytes);
  stats_.done_recipients = sat_add(stats_.done_recipients, recips);
  stats_.done_attempts = sat_add(stats_.done_attempts, m.counts.total());
  stats_.done_sbytes = sat_add(stats_.done_sbytes, sat_mul(m.bytes, m.counts.success));
  if (t && m.birth) stats_.qtime.add(*t - *m.birth);
  SenderRow& s = stats_.senders.at(m.has_info ? sender_key(m.sender) : "(unknown)");
  ++s.messages;
  s.bytes = sat_add(s.bytes, m.bytes);
  s.recipients = sat_add(s.recipients, recips);
}

void Matchup::drop_open_deliveries() {
  stats_.abandoned += open_.size();
  open_.clear();
  open_count_ = {};
}

void Matchup::drop_oldest(bool remote, uint64_t keep) {
  const size_t c = remote ? 1 : 0;
  for (auto it = open_.begin(); it != open_.end() && open_count_[c] > keep;) {
    if (it->second.remote != remote) {
      ++it;
      continue;
    }
    it = open_.erase(it);
    --open_count_[c];
    ++stats_.abandoned;
  }
}

void Matchup::finish() {
  stats_.open_msgs = msgs_.size();
  stats_.open_deliveries = open_.size();
}

}  // namespace qng::stats

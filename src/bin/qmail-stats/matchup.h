// matchup.h: follows messages and deliveries through qmail-send's log, as
// qmailanalog's matchup does, and adds up what the reports show.
//
// A delivery is matched by its number D from "starting delivery D" to
// "delivery D: ..."; D counts from 1 at each start of qmail-send, so the
// open deliveries are dropped at "status: exiting", when the numbering
// starts again (a D not above the last one started: a restart, also after
// a crash), and when a status line counts fewer deliveries in progress
// than are open (the oldest go). A message is matched by its number N from
// "new msg N" to "end msg N", across restarts; its state goes at end msg.
//
// Memory is bounded: at most Limits::max_messages messages and
// max_deliveries deliveries are followed at once, each table keeps at
// most max_keys rows (the rest add up in one "(other)" row), and the
// exact delays for medians are kept up to max_samples, then binned.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "logline.h"

namespace qng::stats {

struct Limits {
  size_t max_messages = 1'000'000;
  size_t max_deliveries = 1'000'000;
  size_t max_keys = 100'000;
  size_t max_samples = 1'000'000;
  size_t max_stored_text = 1024;  // of a sender kept per message
};

// Lines stamped before `since` only build state (a delivery still finds its
// message's birth); lines at or after `until` are skipped. With either set,
// unstamped lines are skipped.
struct Window {
  std::optional<int64_t> since;  // unix usec, inclusive
  std::optional<int64_t> until;  // unix usec, exclusive
};

// Delays: a total, a count, and the median (exact up to a cap).
class Delays {
 public:
  explicit Delays(size_t max_samples) : max_samples_(max_samples) {}
  void add(int64_t usec);
  uint64_t count() const { return count_; }
  int64_t total() const { return total_; }
  // Median in usec; exact() says whether it is exact or from bins of 0.5%.
  std::optional<int64_t> median() const;
  bool exact() const { return !binned_; }

 private:
  size_t max_samples_;
  uint64_t count_ = 0;
  int64_t total_ = 0;
  bool binned_ = false;
  mutable std::vector<int64_t> samples_;
  std::map<int, uint64_t> bins_;
};

struct Counts {
  uint64_t success = 0, failure = 0, deferral = 0;
  uint64_t total() const { return success + failure + deferral; }
  void add(Outcome o);
};

// A row of the reasons tables (zfailures, zdeferrals, zsuccesses).
struct ReasonRow {
  uint64_t deliveries = 0;
  uint64_t timed = 0;  // deliveries with a known xdelay
  int64_t xdelay = 0;  // usec, their total
};

// A row of the recipient-domain and recipient tables (zrhosts, zrecipients).
struct TargetRow {
  Counts counts;
  uint64_t sbytes = 0;  // bytes of the messages delivered successfully
  uint64_t timed = 0;
  int64_t xdelay = 0;
};

// A row of the senders table (zsenders).
struct SenderRow {
  uint64_t messages = 0;   // completed (end msg)
  uint64_t bytes = 0;      // of those messages
  uint64_t recipients = 0; // their successes + failures
  Counts counts;           // delivery attempts of the sender's messages
  uint64_t timed = 0;
  int64_t xdelay = 0;
};

// A table of at most `cap` keys; later new keys add up in other().
template <class Row>
class Table {
 public:
  explicit Table(size_t cap) : cap_(cap) {}
  Row& at(std::string_view key) {
    auto it = rows_.find(std::string(key));
    if (it != rows_.end()) return it->second;
    if (rows_.size() >= cap_) {
      overflowed_ = true;
      return other_;
    }
    return rows_[std::string(key)];
  }
  const std::unordered_map<std::string, Row>& rows() const { return rows_; }
  bool overflowed() const { return overflowed_; }
  const Row& other() const { return other_; }

 private:
  size_t cap_;
  std::unordered_map<std::string, Row> rows_;
  Row other_{};
  bool overflowed_ = false;
};

// The upper bounds (usec) of the delay distribution's buckets; one more
// bucket counts what lies above the last.
inline constexpr std::array<int64_t, 18> kDelayBounds = {
    1'000'000,      2'000'000,      5'000'000,       10'000'000,      30'000'000,
    60'000'000,     120'000'000,    300'000'000,     600'000'000,     1'800'000'000,
    3'600'000'000,  7'200'000'000,  21'600'000'000,  43'200'000'000,  86'400'000'000,
    172'800'000'000, 345'600'000'000, 604'800'000'000};

struct Stats {
  explicit Stats(const Limits& l)
      : qtime(l.max_samples),
        ddelay(l.max_samples),
        xdelay(l.max_samples),
        success_reasons(l.max_keys),
        failure_reasons(l.max_keys),
        deferral_reasons(l.max_keys),
        domains(l.max_keys),
        recipients(l.max_keys),
        senders(l.max_keys),
        alerts(l.max_keys) {}

  // Input.
  uint64_t lines = 0;
  uint64_t lines_tai64n = 0, lines_unix = 0, lines_unstamped = 0;
  uint64_t lines_unrecognised = 0;
  uint64_t lines_continued = 0;          // splogger's folded tails
  uint64_t lines_truncated = 0;          // longer than the line cap
  uint64_t lines_before = 0;             // before --since: state only
  uint64_t lines_after = 0;              // at or after --until: skipped
  uint64_t lines_unstamped_skipped = 0;  // no stamp, with a window
  bool windowed = false;
  std::optional<int64_t> first, last;    // stamps of the lines counted

  // Messages.
  uint64_t msgs_new = 0;
  uint64_t msgs_done = 0;               // end msg
  uint64_t msgs_done_unknown = 0;       // end msg of a message never seen
  uint64_t done_bytes = 0;              // bytes of completed messages
  uint64_t done_recipients = 0;         // their successes + failures
  uint64_t done_attempts = 0;           // their delivery attempts
  uint64_t done_sbytes = 0;             // bytes weighted by success
  Delays qtime;                         // new msg -> end msg
  uint64_t bounces = 0, triple_bounces = 0;

  // Deliveries, by channel (0 local, 1 remote).
  std::array<Counts, 2> channel;
  Delays ddelay;  // new msg -> end of a successful delivery
  Delays xdelay;  // starting delivery -> its end, every attempt
  std::array<uint64_t, kDelayBounds.size() + 1> ddist{};
  std::map<int64_t, Counts> hourly;  // hour (unix seconds / 3600) -> counts
  bool hourly_overflowed = false;

  // qmail-send's runs and status lines.
  uint64_t exits = 0;                 // status: exiting
  uint64_t restarts = 0;              // delivery numbering started again
  uint64_t abandoned = 0;             // open deliveries dropped by the above
  uint64_t unmatched_results = 0;     // delivery D: without a start
  uint64_t starts_unknown_msg = 0;    // starting delivery of an unseen msg
  uint64_t peak_local = 0, peak_remote = 0, max_local = 0, max_remote = 0;
  bool saw_status = false;

  // Bounded state.
  uint64_t msgs_untracked = 0;        // new msg past max_messages
  uint64_t deliveries_untracked = 0;  // starting delivery past max_deliveries
  uint64_t open_msgs = 0;             // at the end of the input
  uint64_t open_deliveries = 0;

  // Tables.
  Table<ReasonRow> success_reasons, failure_reasons, deferral_reasons;
  Table<TargetRow> domains, recipients;
  Table<SenderRow> senders;
  uint64_t alert_lines = 0, warning_lines = 0;
  Table<uint64_t> alerts;  // "alert: ..."/"warning: ..." with numbers as N
};

class Matchup {
 public:
  Matchup(const Limits& limits, const Window& window);

  // One line without its newline; `truncated` when it was cut at the cap.
  void feed(std::string_view line, bool truncated = false);
  // End of input: counts what is still open.
  void finish();
  const Stats& stats() const { return stats_; }

 private:
  struct Msg {
    std::optional<int64_t> birth;
    uint64_t bytes = 0;
    bool has_info = false;
    std::string sender;
    Counts counts;
  };
  struct Open {
    uint64_t msg = 0;
    bool remote = false;
    std::optional<int64_t> start;
    std::string recipient;
  };

  void apply(const Event& e, std::optional<int64_t> t, bool counted);
  void on_status(const Event& e);
  void on_start(const Event& e, std::optional<int64_t> t, bool counted);
  void on_delivery(const Event& e, std::optional<int64_t> t, bool counted);
  void on_end(const Event& e, std::optional<int64_t> t, bool counted);
  void drop_open_deliveries();
  void drop_oldest(bool remote, uint64_t keep);

  Limits limits_;
  Window window_;
  Stats stats_;
  std::unordered_map<uint64_t, Msg> msgs_;
  std::map<uint64_t, Open> open_;  // by delivery number: oldest first
  std::array<uint64_t, 2> open_count_{};
  uint64_t last_delivery_ = 0;     // highest D started in this run
};

}  // namespace qng::stats

// logline.h: one line of qmail-send's log (qmail-log(5)), taken apart.
//
// A line may start with a time stamp: TAI64N "@4000...  " as qmail-logger
// and multilog write it, or "1700000000.123456 " as splogger and accustamp
// write it; or have none. The rest is one of qmail-send's events. Views
// returned here point into the line they were made from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qng::stats {

enum class StampKind { kNone, kTai64n, kUnix };

struct StampedLine {
  StampKind kind = StampKind::kNone;
  int64_t usec = 0;             // unix time in microseconds, when stamped
  bool continuation = false;    // splogger's "STAMP+..." folded tail
  std::string_view text;        // the line after the stamp and its space
};

// Splits the stamp off a line (no newline). A line that starts like a
// stamp but is not a valid one is returned whole, unstamped. A syslog line
// "Mar  3 09:05:01 host qmail: 1700000000.123456 text" is found by its
// splogger stamp after the first ": ".
StampedLine split_stamp(std::string_view line);

// "@" + 24 hex digits (or 16 for TAI64 without nanoseconds), as unix
// microseconds; nullopt when malformed or before 1970.
std::optional<int64_t> parse_tai64n(std::string_view s);
// "SECONDS[.FRACTION]" as unix microseconds.
std::optional<int64_t> parse_unix_time(std::string_view s);

enum class EventType {
  kStatus,        // status: local L/LMAX remote R/RMAX[ exitasap]
  kExiting,       // status: exiting
  kNewMsg,        // new msg N
  kInfoMsg,       // info msg N: bytes B from <S> qp P uid U
  kStart,         // starting delivery D: msg N to local|remote R
  kDelivery,      // delivery D: success|failure|deferral: TEXT, or mangled
  kBounce,        // bounce msg N qp P
  kTripleBounce,  // triple bounce: discarding bounce/N
  kEndMsg,        // end msg N
  kAlert,         // alert: ...
  kWarning,       // warning: ...
  kOther,         // anything else
};

enum class Outcome { kSuccess, kFailure, kDeferral };

struct Event {
  EventType type = EventType::kOther;
  uint64_t msg = 0;
  uint64_t delivery = 0;
  uint64_t bytes = 0;
  uint64_t qp = 0;
  uint64_t uid = 0;
  bool remote = false;        // kStart: the channel
  Outcome outcome = Outcome::kSuccess;
  bool mangled = false;       // kDelivery: "report mangled, will defer"
  std::string_view sender;    // kInfoMsg, without the angle brackets
  std::string_view recipient; // kStart
  std::string_view text;      // kDelivery: the report; kAlert/kWarning: rest
  uint64_t local_used = 0, local_max = 0, remote_used = 0, remote_max = 0;  // kStatus
};

// Parses the text of a line (stamp already split off). Numbers that do not
// parse, or a missing field, make the line kOther.
Event parse_event(std::string_view text);

// The reason of a delivery report as qmail-stats counts it: the text up to
// the first "/" (a newline in the report), or through the first "#x.y.z"
// status code and its closing parenthesis, whichever comes first.
std::string_view reason_of(std::string_view report);

// The domain of a recipient, lower-cased: after the last "@"; the whole
// address when it has none.
std::string domain_of(std::string_view recipient);

}  // namespace qng::stats

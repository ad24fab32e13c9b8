// data.h: the DATA reader: SMTP's message text to the bytes qmail stores.
//
// A state machine over the input (RFC 5321 4.1.1.4, 4.5.2):
//   - only CR LF "." CR LF ends the data; it starts "after CR LF", so a
//     message may end at once;
//   - CR LF becomes LF; a "." starting a line is removed (dot-unstuffing);
//   - a bare LF or a bare CR is not a line end, ever (RFC 5321 4.1.1.4):
//     "\r\n.\n", "\n.\r\n" and "\r.\r\n" are text, so no client or
//     upstream MTA can end the data where we do not see the end (SMTP
//     smuggling). Clients must not send them (RFC 5321 2.3.8): the message
//     is refused (554 5.6.0) once the real end arrives. qmail's immediate
//     451 and hang-up made honest senders retry for days;
//   - NUL bytes refuse the message (554 5.6.0);
//   - more than databytes stored bytes refuse it (552 5.3.4);
//   - 100 or more header lines starting with "Received" or "Delivered"
//     (any case, qmail's count) refuse it as looping (554 5.4.6).
// After a refusal nothing more is stored, but the input is still read to
// its end so that the next command is where the client thinks it is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qng::smtpd {

constexpr unsigned kMaxHops = 100;

class DataReader {
 public:
  enum class Verdict { kOk, kBareLineEnd, kNul, kHops, kTooBig };

  // databytes: the most bytes stored; 0 means no limit.
  explicit DataReader(uint64_t databytes) : databytes_(databytes) {}

  // Consumes input up to and including the end of the data; appends the
  // bytes to store to `out`. Returns how many bytes of `in` were consumed
  // (fewer than in.size() only when the end was reached).
  size_t feed(std::string_view in, std::string& out);

  bool done() const { return state_ == kDone; }
  // After done(): whether to queue, or why not (in the order of this list).
  Verdict verdict() const;
  uint64_t stored() const { return stored_; }
  unsigned hops() const { return hops_; }

 private:
  enum State { kLineStart, kText, kCr, kDot, kDotCr, kDone };

  bool refused() const { return bare_ || nul_ || too_big_; }
  void emit(char c, std::string& out);
  void count_header(char c);

  uint64_t databytes_;
  State state_ = kLineStart;
  uint64_t stored_ = 0;
  bool bare_ = false;
  bool nul_ = false;
  bool too_big_ = false;
  // Header scan of the stored bytes (qmail's blast()).
  bool in_header_ = true;
  size_t line_pos_ = 0;
  bool maybe_received_ = true;
  bool maybe_delivered_ = true;
  unsigned hops_ = 0;
};

}  // namespace qng::smtpd

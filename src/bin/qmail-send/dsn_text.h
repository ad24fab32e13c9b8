// dsn_text.h: bounces as RFC 3464 delivery status notifications, the
// default of control/bounceformat. docs/bounces.md shows one.
//
// The bounce is a multipart/report (RFC 6522) of three parts:
//   1. text/plain: the QSBMF text, intro + bounce/N paragraphs + break line,
//      so a QSBMF reader that looks for "Hi. This is the" still parses it;
//   2. message/delivery-status: Reporting-MTA and Arrival-Date, then per
//      failed recipient Final-Recipient, Action, Status (RFC 3463) and the
//      diagnostic, read back out of the recipient's QSBMF paragraph;
//   3. message/rfc822: the message as stored in mess/S/N.
// bounce/N is read line by line (three passes) and the message is copied
// by the caller, so nothing is held whole in memory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bounce_text.h"
#include "result.h"

namespace qng::send {

// Longest line the generated parts contain (RFC 5322: 998 + CRLF).
constexpr size_t kDsnLineMax = 998;

// An RFC 3463 status code, x.y.z.
struct StatusCode {
  unsigned cls = 5;  // class: 2 success, 4 persistent transient, 5 permanent
  unsigned subject = 0;
  unsigned detail = 0;
  std::string text() const;
  bool operator==(const StatusCode&) const = default;
};

// What the DSN says about one failed recipient.
struct DsnRecipient {
  std::string recipient;        // Final-Recipient, as in the QSBMF paragraph
  StatusCode status;            // Status
  std::string remote_mta;       // Remote-MTA (an IP), "" when none
  std::string diagnostic_type;  // "smtp" (a remote reply) or "X-Qmail"
  std::string diagnostic;       // one line of text
};

// Reads a recipient's report (the paragraph after "<recip>:\n", or the
// spawn's text) the way qmail-local and qmail-remote write them:
// - "Remote host said: " starts an SMTP reply: it is the Diagnostic-Code
//   (type smtp, its lines joined), the IP that opens the report ("IP does
//   not like recipient.", "Connected to IP but ...", "IP failed after ...")
//   is the Remote-MTA, and an RFC 2034 code in the reply is the Status;
// - else the last "(#x.y.z)" is the Status, and the whole report is the
//   Diagnostic-Code of type X-Qmail;
// - without a code: the reply's class (x.0.0), else 4.4.7 when the report
//   ends with qmail-send's "in the queue too long" line, else 5.0.0.
// qmail-send gave up on the recipient, so the class is 5 unless the message
// was too long in the queue: then the 4.x.y of the last temporary failure
// stays (RFC 3463 4.4.7 asks for the actual problem's code), with Action
// failed.
DsnRecipient dsn_recipient(std::string_view recipient, std::string_view report);

// Splits a bounce/N paragraph ("<recip>:\nreport...", without the empty
// line) into recipient and report; nullopt when it is not one.
struct Paragraph {
  std::string recipient;
  std::string report;
};
std::optional<Paragraph> split_paragraph(std::string_view paragraph);

// Lines of bounce/N, read again for each part. next() gives one line with
// its '\n' (the last one may lack it), false at the end; a line longer
// than the source's cap comes in pieces.
class LineSource {
 public:
  virtual ~LineSource() = default;
  virtual Result<bool> next(std::string& line) = 0;
  virtual Status rewind() = 0;
};

// bounce/N as a string (tests, and bounces built in memory).
class StringLines : public LineSource {
 public:
  explicit StringLines(std::string_view text) : text_(text) {}
  Result<bool> next(std::string& line) override;
  Status rewind() override {
    pos_ = 0;
    return {};
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// bounce/N as an open file; rewind() seeks back to the start.
class FileLines : public LineSource {
 public:
  explicit FileLines(int fd, size_t max_line = 1 << 20);
  Result<bool> next(std::string& line) override;
  Status rewind() override;

 private:
  int fd_;
  size_t max_;
  std::string buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
};

struct DsnHead {
  std::string me;          // control/me: Reporting-MTA
  std::string message_id;  // "<...>", see make_message_id()
  std::string boundary;    // see make_boundary() and pick_boundary()
  time_t arrival = 0;      // the message's birth: Arrival-Date
};

// "<TIME.PID.N.qmail-send@HOST>" (N = the bounced message's number).
std::string make_message_id(time_t now, pid_t pid, uint64_t id, std::string_view host);
// "=_qmail-send_TIME_PID_COUNTER_RANDOM" (RANDOM as 16 hex digits): 70
// characters at most, and "=_" never appears in quoted-printable text.
std::string make_boundary(time_t now, pid_t pid, uint64_t counter, uint64_t random);
// The first boundary gen(0), gen(1), ... such that "--" + boundary occurs
// in none of the files (read with pread, so their offsets stay); a
// temporary error after 16 tries or when a file cannot be read.
Result<std::string> pick_boundary(const std::function<std::string(unsigned)>& gen,
                                  const std::vector<int>& fds);

// Writes the whole bounce except the copy of the message: put() takes the
// text, put_message() is called where the message goes (it copies
// mess/S/N). Reads `paragraphs` three times: to see whether part 1 is
// ASCII (us-ascii), valid UTF-8 (utf-8, 8bit) or neither (bytes above 127
// become '?'), to write part 1, and to write part 2.
Status write_dsn(const BounceHead& head, const DsnHead& dsn, LineSource& paragraphs,
                 const std::function<void(std::string_view)>& put,
                 const std::function<void()>& put_message);

// The whole DSN in memory (tests).
std::string dsn_message(const BounceHead& head, const DsnHead& dsn, std::string_view paragraphs,
                        std::string_view message);

// One line of part 1 (without its '\n'): control bytes but TAB become '?',
// bytes above 127 too unless utf8; cut into lines of at most kDsnLineMax
// bytes, at a space when one is near the end, never inside a UTF-8
// character. Returns the line(s), each ending in '\n'.
std::string dsn_text_line(std::string_view line, bool utf8);
// A DSN field, "Name: value" folded at spaces to lines of about 78 bytes
// (continuation lines start with a space) and cut at kDsnLineMax; bytes
// outside printable ASCII in value become '?'. Ends in '\n'.
std::string dsn_field(std::string_view name, std::string_view value);

}  // namespace qng::send

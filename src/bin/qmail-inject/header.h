// header.h: qmail-inject's header rewriting (qmail-header(5)): each field
// in turn, then the fields it adds, and the envelope it derives.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fields.h"
#include "result.h"
#include "settings.h"
#include "token822.h"

namespace qng::inject {

class HeaderRewriter {
 public:
  // `mode` must be resolved (not kDefault); see resolve_mode().
  HeaderRewriter(const Settings& settings, RecipientMode mode, bool print);

  // The -f sender: rewritten like a header address. Wins over Return-Path.
  Status set_sender(std::string_view arg);
  // A recipient argument: rewritten like a header address.
  Status add_recipient(std::string_view arg);

  // One header field: its lines, folded continuations included, each
  // ending in LF. Rewrites address fields, notes what it has seen, keeps
  // the field for finish() unless it is one that goes (Bcc, Resent-Bcc,
  // Return-Path, Content-Length).
  Status field(std::string text);

  // After the last field: the header as it is to be written. With print
  // (-n) it starts with "Return-Path: <sender>". Then Date, Message-ID,
  // From and "Cc: recipient list not shown: ;" where missing (or their
  // Resent- forms for a resent message), Mail-Followup-To, the kept fields.
  Result<std::string> finish();

  // Valid after finish().
  const std::string& sender() const { return *sender_; }
  // The envelope recipients: the arguments (unless -h), then those of the
  // header (unless -a): Resent-To/Cc/Bcc for a resent message, else To, Cc,
  // Bcc and Apparently-To.
  std::vector<std::string> recipients() const;

 private:
  enum class Kind { kNone, kSender, kReturnPath, kToCc, kRecipient, kResentRecipient };

  // Rewrites the address list of a field; collected addresses go to the
  // lists only when the whole field parsed.
  bool rewrite_field(const std::string& text, Kind kind, std::string& out);
  Status count(size_t more);
  Result<std::string> default_from();
  Status default_return_path();
  std::string date_field() const;
  std::string message_id_field() const;
  std::string mail_followup_to() const;

  const Settings& s_;
  RecipientMode mode_;
  bool print_;
  bool header_recipients_;  // recipients are read from the header

  std::optional<std::string> sender_;
  std::array<bool, static_cast<size_t>(Field::kCount)> seen_{};
  std::vector<std::string> kept_;       // fields to write, in order
  std::vector<std::string> args_;       // recipients from the arguments
  std::vector<std::string> header_;     // To, Cc, Bcc, Apparently-To
  std::vector<std::string> resent_;     // Resent-To, -Cc, -Bcc
  std::vector<std::string> to_cc_;      // To and Cc, for Mail-Followup-To
  size_t addresses_ = 0;                // addresses seen, against kMaxAddresses
  size_t visited_ = 0;                  // addresses of the field being rewritten
};

// -A: the arguments if there are any, else the header.
RecipientMode resolve_mode(RecipientMode mode, bool have_args);

// The header fields qmail-inject adds.
std::string date_line(const char* name, time_t t);                 // "Date: ...\n"
std::string message_id_line(const char* name, time_t t, pid_t pid,
                            const std::string& idhost);            // "Message-ID: <...>\n"

}  // namespace qng::inject

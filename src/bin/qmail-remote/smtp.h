// smtp.h: qmail-remote's SMTP client dialogue (RFC 5321 with ESMTP: EHLO,
// STARTTLS, AUTH, PIPELINING, SIZE, 8BITMIME, SMTPUTF8) on one connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "channel.h"
#include "mx.h"
#include "output.h"
#include "routes.h"
#include "tls.h"

namespace qng::remote {

// A reply: its code (0 when the first line has no 3-digit code), its text
// as qmail keeps it (CR dropped, at most kMaxSmtpText bytes), and the
// lines after the code, for EHLO.
struct Reply {
  unsigned code = 0;
  std::string text;
  std::vector<std::string> lines;
};

// The server's EHLO keywords we use.
struct Extensions {
  bool pipelining = false;
  bool size = false;
  bool eightbitmime = false;
  bool smtputf8 = false;
  bool starttls = false;
  bool auth = false;
  bool auth_plain = false;
  bool auth_login = false;
};
Extensions parse_ehlo(const std::vector<std::string>& lines);

// Parses a reply line by line; feed() returns true when the reply is
// complete. Lines must end with LF.
class ReplyParser {
 public:
  bool feed(std::string_view line);
  Reply take() { return std::move(reply_); }

 private:
  Reply reply_;
  bool first_ = true;
};

// One delivery's data, the same for every connection attempt.
struct Delivery {
  std::string helohost;
  std::string sender;                   // as it goes between < >
  std::vector<std::string> recipients;  // the same
  std::string envelope_sender;          // as given (QMTP carries it as it is)
  std::vector<std::string> envelope_recipients;  // the same
  bool needs_utf8 = false;              // an address has non-ASCII bytes
  bool eightbit = false;                // the message has 8-bit bytes
  std::optional<uint64_t> size;         // the stored message's size
  int message_fd = 0;                   // a file, read with pread from offset 0
  std::string prefix;                   // DKIM-Signature fields (LF line ends),
                                        // sent before the message, encoded alike
  TlsPolicy policy;
  const TlsContext* tls = nullptr;      // null for policy none
  std::optional<Credentials> credentials;
  std::string relay;                    // the smtproutes relay, for texts
  int timeout_ms = 1200000;
};

// MAIL FROM's parameters for the server's extensions.
std::string mail_params(const Delivery& d, const Extensions& ext, bool esmtp);

enum class Attempt {
  kDone,        // the output is finished
  kRetryPlain,  // the TLS handshake failed under "may": try again without
};

// Talks to the server on ch (connected to target) and finishes out, or
// asks for a plaintext retry. allow_tls = false never sends STARTTLS.
Attempt deliver(Channel& ch, const Delivery& d, const Target& target, bool allow_tls,
                Output& out);

}  // namespace qng::remote

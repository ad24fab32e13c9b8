// output.h: what qmail-remote prints for qmail-rspawn (QMAIL-INTERFACES
// 12.1/12.2): one record per recipient (r accepted, h refused for good,
// s refused for now), then one message record (K delivered to every r,
// Z temporary failure, D permanent failure); each record is a letter, a
// text and a NUL. Texts are qmail-remote's.
#pragma once

#include <string>
#include <string_view>

namespace qng::remote {

// qmail keeps this much of a remote reply (HUGESMTPTEXT).
constexpr size_t kMaxSmtpText = 5000;

constexpr const char* kNoMem = "ZOut of memory. (#4.3.0)\n";
constexpr const char* kOsErr = "ZSystem resources temporarily unavailable. (#4.3.0)\n";
constexpr const char* kNoConn =
    "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n";
constexpr const char* kNoQmtpConn =
    "ZSorry, I wasn't able to establish a QMTP connection. (#4.4.1)\n";
constexpr const char* kReadMessage = "ZUnable to read message. (#4.3.0)\n";
constexpr const char* kTempDns = "ZSorry, I couldn't find any host by that name. (#4.1.2)\n";
constexpr const char* kChdir = "ZUnable to switch to home directory. (#4.3.0)\n";
constexpr const char* kUsage = "DI (qmail-remote) was invoked improperly. (#5.3.5)\n";
constexpr const char* kNoMx =
    "DSorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n";
constexpr const char* kSelfMx =
    "DSorry. Although I'm listed as a best-preference MX or A for that host,\n"
    "it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n";
constexpr const char* kLineBreak =
    "DSorry, an address holds a CR or LF, which SMTP cannot carry. (#5.1.3)\n";

// "DSorry, I couldn't find any host named HOST. (#5.1.2)\n"
std::string perm_dns(std::string_view host);
// A domain whose only MX is "." (RFC 7505).
std::string null_mx(std::string_view host);

// qmail's outsafe: bytes below 33 or above 126 become '?'.
std::string safe(std::string_view s);
// s with CR, LF and NUL turned into spaces (an error text inside a record).
std::string one_line(std::string_view s);
// "Remote host said: " and the reply text (NUL bytes as '?'), or "" for no
// text.
std::string remote_said(std::string_view smtptext);

class Output {
 public:
  // A recipient record: "r", or "h"/"s" + "IP does not like recipient.\n"
  // and the reply.
  void accepted();
  void refused(bool permanent, std::string_view ip, std::string_view smtptext);
  // The message record; text starts with K, Z or D. Only the first counts.
  void finish(std::string_view text);

  bool finished() const { return finished_; }
  const std::string& bytes() const { return bytes_; }

 private:
  void record(std::string_view text);
  std::string bytes_;
  bool finished_ = false;
};

}  // namespace qng::remote

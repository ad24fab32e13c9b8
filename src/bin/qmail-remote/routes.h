// routes.h: qmail-remote's control files: smtproutes, qmtproutes,
// tlspolicy, smtpauth, outgoingip, dnsservers and the timeouts
// (docs/remote.md).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control.h"
#include "ip.h"
#include "result.h"

namespace qng::remote {

constexpr uint16_t kSmtpPort = 25;

// `key:value` lines looked up as qmail looks up smtproutes (constmap): the
// whole host, then each `.suffix` from the left, then the empty key. Keys
// compare without case; of two lines with the same key the later wins;
// lines without a colon are ignored.
class RouteTable {
 public:
  RouteTable() = default;
  explicit RouteTable(const std::vector<std::string>& lines);

  // The value for host, trying the empty key last when with_default.
  std::optional<std::string> find(std::string_view host, bool with_default = true) const;
  // The value of exactly this key.
  std::optional<std::string> find_key(std::string_view key) const;

 private:
  std::map<std::string, std::string> map_;  // lowercase key -> value
};

// Where a smtproutes or qmtproutes value sends mail.
struct Relay {
  std::string host;  // a name, an IPv4 address, or "[address]"; "" = by MX
  uint16_t port = kSmtpPort;
  bool operator==(const Relay&) const = default;
};

// Parses a smtproutes or qmtproutes value: "relay", "relay:port", "[ip]",
// "[ip]:port", or ":port" (our addition: deliver by MX as usual, to that
// port). An empty value means "by MX, port default_port" (25 for
// smtproutes). nullopt when the port is not 1..65535 or a bracket is
// unbalanced.
std::optional<Relay> parse_relay(std::string_view value, uint16_t default_port = kSmtpPort);

enum class TlsLevel { kNone, kMay, kEncrypt, kVerify };

struct TlsPolicy {
  TlsLevel level = TlsLevel::kMay;  // the default: opportunistic
  bool plain_auth = false;          // AUTH allowed without TLS
  bool operator==(const TlsPolicy&) const = default;
};

// Parses a tlspolicy value: none | may | encrypt | verify, optionally
// followed by ",plainauth". nullopt when unknown.
std::optional<TlsPolicy> parse_tls_policy(std::string_view value);
const char* tls_level_name(TlsLevel level);

struct Credentials {
  std::string user;
  std::string password;
};

// The control/smtpauth entry for relay: lines "relay:user:password" (the
// password is the rest of the line, colons included); relay compares
// without case; the later of two lines wins.
std::optional<Credentials> find_credentials(const std::vector<std::string>& lines,
                                            std::string_view relay);

// control/outgoingip: the address to bind for a connection to ip (the first
// line of the same family), or nullopt.
std::optional<IpAddress> source_for(const std::vector<IpAddress>& outgoing, const IpAddress& ip);

struct Config {
  std::string helohost;
  unsigned timeout_connect = 60;   // seconds
  unsigned timeout_remote = 1200;  // seconds
  RouteTable routes;      // control/smtproutes
  RouteTable qmtproutes;  // control/qmtproutes
  RouteTable tlspolicy;
  std::vector<IpAddress> outgoing;      // control/outgoingip
  std::vector<std::string> dnsservers;  // control/dnsservers, as libunbound wants them
  std::optional<std::string> tlsca;     // control/tlsca.pem when it exists
};

// Reads the control files (cwd = QMAILHOME). A missing helohost and me, an
// unreadable file or a malformed line is an error; `why` then holds the
// text of the Z report.
Result<Config> read_config(const Control& control, std::string& why);

// The TLS policy for a delivery: the host argument (exact and `.suffix`
// keys), then the relay when routed (the same), then the empty key, then
// the default (may).
Result<TlsPolicy> find_tls_policy(const Config& config, std::string_view host,
                                  std::string_view relay, std::string& why);

// control/smtpauth for relay: nullopt when the file or the line is missing;
// an error (why set) when the file is readable by group or others, or
// cannot be read.
Result<std::optional<Credentials>> read_credentials(const Control& control,
                                                    std::string_view relay, std::string& why);

}  // namespace qng::remote

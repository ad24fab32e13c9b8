// dns.h: DNS lookups for mail routing (MX, A, AAAA) through libunbound.
//
// libunbound is a maintained validating resolver, so DNSSEC-validated TLSA
// (DANE) can come later through the same context. Answers are taken from
// ub_result's parsed rdata; the only rdata decoded here is MX (RFC 1035
// 3.3.9: 2-byte preference, then the exchange's domain name, which
// libunbound hands over uncompressed), with every length checked.
//
// Failures: a name that does not exist (NXDOMAIN) is a permanent Error
// with code ENOENT; a malformed name is permanent with EINVAL; everything
// else (SERVFAIL, timeouts, no reachable server, a bogus DNSSEC answer) is
// temporary. A name that exists without records of the type (NODATA) is
// success with an empty list.
//
// Programs that use this link libunbound (see src/bin/qmail-remote).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ip.h"
#include "result.h"

struct ub_ctx;

namespace qng::dns {

// Caps on what one answer may give us.
constexpr size_t kMaxMx = 64;
constexpr size_t kMaxAddresses = 32;  // per address family
constexpr size_t kMaxName = 253;

struct Mx {
  unsigned pref = 0;
  std::string name;  // without the final dot; "" for the root (null MX)
  bool operator==(const Mx&) const = default;
};

struct Options {
  // Servers to forward every query to ("IP" or "IP@port"); empty: the
  // servers of resolv_conf, or full recursion when that cannot be read.
  std::vector<std::string> forwarders;
  std::string resolv_conf = "/etc/resolv.conf";
  std::string hosts = "/etc/hosts";  // "" for none
  int timeout_ms = 60000;            // per lookup; past it: temporary failure
};

class Resolver {
 public:
  static Result<Resolver> create(const Options& options);

  Resolver(Resolver&& o) noexcept;
  Resolver& operator=(Resolver&& o) noexcept;
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;
  ~Resolver();

  // The MX records of host, in answer order (at most kMaxMx; records
  // whose exchange is not a usable host name are left out).
  Result<std::vector<Mx>> mx(std::string_view host);
  // The A addresses of name, then its AAAA addresses. One family failing
  // temporarily while the other answers gives the other's addresses.
  Result<std::vector<IpAddress>> addresses(std::string_view name);

 private:
  Resolver() = default;
  ub_ctx* ctx_ = nullptr;
  int timeout_ms_ = 60000;
};

// ---- pieces, for tests ----

// Decodes MX rdata; nullopt when malformed, or when the exchange has a
// label with bytes that cannot be part of a host name.
std::optional<Mx> decode_mx(std::string_view rdata);
// A name that may be looked up: 1..kMaxName bytes of printable ASCII (or
// UTF-8) without spaces, backslashes, empty labels.
bool lookup_name_ok(std::string_view name);
// A control/dnsservers line: "IP" or "IP@port"; the forwarder text for
// libunbound, or nullopt when malformed.
std::optional<std::string> parse_dns_server(std::string_view line);

}  // namespace qng::dns

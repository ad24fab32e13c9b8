// relaypolicy.h: the relay policy of qmail-smtpd and qmail-qmtpd, so that both
// servers relay exactly alike: who may send what to whom: badmailfrom,
// rcpthosts and morercpthosts.cdb, our own address literals, and which
// domains are ours (control/locals and control/virtualdomains, routed by
// qmail-send's own rules, route.h).
//
// A missing control/rcpthosts made qmail an open relay. Here it means
// "only our own domains" (locals and virtualdomains) unless control/openrelay
// says 1: a security fix; see docs/smtp.md.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cdb.h"
#include "control.h"
#include "ip.h"
#include "result.h"
#include "route.h"

namespace qng {

class RelayPolicy {
 public:
  // Reads badmailfrom, rcpthosts, morercpthosts.cdb, locals (default: me),
  // virtualdomains, percenthack, envnoathost (default: me), openrelay,
  // localiphost (default: me).
  static Result<RelayPolicy> load(const Control& control);

  // qmail's bmfcheck: the address, or "@" and its domain, is listed
  // (case-insensitive).
  bool badmailfrom(std::string_view sender) const;

  // qmail's addrallowed: no '@', or the domain (or a ".suffix" of it) is in
  // rcpthosts or morercpthosts.cdb. Unlike qmail, the domain is the one
  // qmail-send will deliver to: after envnoathost and control/percenthack,
  // so that user%host@ours is no relay. Errors: the cdb cannot be read.
  Result<bool> rcpthost_allowed(std::string_view address) const;

  // Whether qmail-send would deliver the address locally (percenthack,
  // locals, then virtualdomains with a nonempty prepend). Addresses without
  // '@' are ours.
  bool ours(std::string_view address) const;

  // qmail's address literal rule: box@[ip] naming one of our IP addresses
  // becomes box@localiphost. nullopt: our addresses cannot be listed.
  std::optional<std::string> rewrite_literal(std::string address) const;

  // For tests: the set of our IP addresses in place of getifaddrs(3).
  void set_local_ips(std::vector<IpAddress> ips);

 private:
  bool listed(const std::set<std::string>& set, std::string_view domain) const;

  std::set<std::string> badmailfrom_;
  bool have_rcpthosts_ = false;
  bool openrelay_ = false;
  std::set<std::string> rcpthosts_;
  std::optional<CdbReader> morercpthosts_;
  AddressMaps domains_;  // locals, virtualdomains, percenthack
  std::string envnoathost_;  // lowercased
  std::string localiphost_;
  // Our IP addresses, read when first needed.
  mutable std::optional<std::vector<IpAddress>> ips_;
};

}  // namespace qng

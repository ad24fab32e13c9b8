// mx.h: which addresses qmail-remote tries, in which order (QMAIL-INTERFACES
// 12.2 steps 2-3): a route's relay, else the MX records by preference
// (equal preferences shuffled), else the host's own addresses; our own
// addresses cut the list at their preference.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dns.h"
#include "ip.h"
#include "result.h"

namespace qng::remote {

// The most addresses tried for one delivery.
constexpr size_t kMaxTargets = 100;

struct Target {
  unsigned pref = 0;
  std::string name;  // the MX or relay name; "" for an address literal
  IpAddress ip;
};

// What DNS answers: dns::Resolver in the program, a table in tests.
class Lookups {
 public:
  virtual ~Lookups() = default;
  virtual Result<std::vector<dns::Mx>> mx(std::string_view host) = 0;
  virtual Result<std::vector<IpAddress>> addresses(std::string_view name) = 0;
};

class ResolverLookups : public Lookups {
 public:
  explicit ResolverLookups(dns::Resolver& r) : r_(r) {}
  Result<std::vector<dns::Mx>> mx(std::string_view host) override { return r_.mx(host); }
  Result<std::vector<IpAddress>> addresses(std::string_view name) override {
    return r_.addresses(name);
  }

 private:
  dns::Resolver& r_;
};

// Sorted by preference; records of equal preference in an order drawn
// from seed.
std::vector<dns::Mx> order_mx(std::vector<dns::Mx> mx, uint64_t seed);

// The addresses of this host's interfaces, plus 0.0.0.0 and :: (netqmail's
// ipme).
Result<std::vector<IpAddress>> local_addresses();

// qmail's self-check: when one of our own addresses is a target, only the
// targets with a strictly lower preference stay. nullopt when none stays
// (we are a best-preference MX). An address listed twice keeps its first
// place only.
std::optional<std::vector<Target>> skip_self(std::vector<Target> targets,
                                             const std::vector<IpAddress>& me);

struct Found {
  enum Kind {
    kOk,         // targets to try
    kTemp,       // DNS failed temporarily (#4.1.2)
    kNoHost,     // no such domain (#5.1.2)
    kNoAddress,  // neither MX nor address (#5.4.4)
    kNullMx,     // the domain says it takes no mail (RFC 7505, #5.1.10)
    kSelf,       // we are a best-preference MX (#5.4.6)
  } kind = kOk;
  std::vector<Target> targets;
};

// The targets for host. relay (from smtproutes) is "" for delivery by MX;
// otherwise its addresses are used, with no MX lookup and no self-check.
Found find_targets(Lookups& dns, std::string_view host, std::string_view relay,
                   const std::vector<IpAddress>& me, uint64_t seed);

}  // namespace qng::remote

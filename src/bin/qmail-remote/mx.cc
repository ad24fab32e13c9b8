// mx.cc: choosing the addresses to try (mx.h).
#include "mx.h"

#include <ifaddrs.h>

#include <algorithm>
#include <cerrno>
#include <random>

namespace qng::remote {

namespace {

// An address given directly: "[1.2.3.4]", "[IPv6:...]" or a bare IPv4
// address (qmail's ip_scan and ip_scanbracket).
std::optional<IpAddress> literal(std::string_view host) {
  if (auto ip = parse_ip_literal(host)) return ip;
  if (auto ip = parse_ip(host); ip && ip->family == AF_INET) return ip;
  return std::nullopt;
}

bool contains(const std::vector<IpAddress>& list, const IpAddress& ip) {
  return std::find(list.begin(), list.end(), ip) != list.end();
}

void add(std::vector<Target>& out, unsigned pref, std::string_view name,
         const std::vector<IpAddress>& ips) {
  for (const IpAddress& ip : ips) {
    if (out.size() >= kMaxTargets) return;
    out.push_back(Target{pref, std::string(name), ip});
  }
}

}  // namespace

std::vector<dns::Mx> order_mx(std::vector<dns::Mx> mx, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::shuffle(mx.begin(), mx.end(), rng);
  std::stable_sort(mx.begin(), mx.end(),
                   [](const dns::Mx& a, const dns::Mx& b) { return a.pref < b.pref; });
  return mx;
}

Result<std::vector<IpAddress>> local_addresses() {
  std::vector<IpAddress> me;
  IpAddress any4;
  any4.family = AF_INET;
  IpAddress any6;
  any6.family = AF_INET6;
  me.push_back(any4);
  me.push_back(any6);
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == -1) return Error::last("unable to list network interfaces");
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    auto ip = from_sockaddr(i->ifa_addr);
    if (ip && !contains(me, *ip)) me.push_back(*ip);
  }
  ::freeifaddrs(list);
  return me;
}

std::optional<std::vector<Target>> skip_self(std::vector<Target> targets,
                                             const std::vector<IpAddress>& me) {
  std::vector<Target> unique;
  std::vector<IpAddress> seen;
  for (Target& t : targets) {
    if (contains(seen, t.ip)) continue;
    seen.push_back(t.ip);
    unique.push_back(std::move(t));
  }
  bool self = false;
  unsigned prefme = 0;
  for (const Target& t : unique)
    if (contains(me, t.ip) && (!self || t.pref < prefme)) {
      self = true;
      prefme = t.pref;
    }
  if (!self) return unique;
  std::vector<Target> out;
  for (Target& t : unique)
    if (t.pref < prefme) out.push_back(std::move(t));
  if (out.empty()) return std::nullopt;
  return out;
}

Found find_targets(Lookups& dns, std::string_view host, std::string_view relay,
                   const std::vector<IpAddress>& me, uint64_t seed) {
  Found f;
  if (!relay.empty()) {
    // A route: the relay's addresses, no MX, no self-check.
    if (auto ip = literal(relay)) {
      f.targets.push_back(Target{0, "", *ip});
      return f;
    }
    auto ips = dns.addresses(relay);
    if (!ips) {
      f.kind = ips.error().permanent() ? Found::kNoHost : Found::kTemp;
      return f;
    }
    if (ips->empty()) {
      f.kind = Found::kNoAddress;
      return f;
    }
    add(f.targets, 0, relay, *ips);
    return f;
  }

  std::vector<Target> all;
  if (auto ip = literal(host)) {
    all.push_back(Target{0, "", *ip});
  } else {
    auto mx = dns.mx(host);
    if (!mx) {
      f.kind = mx.error().permanent() ? Found::kNoHost : Found::kTemp;
      return f;
    }
    if (mx->empty()) {
      // No MX: the host's own addresses, preference 0.
      auto ips = dns.addresses(host);
      if (!ips) {
        f.kind = ips.error().permanent() ? Found::kNoHost : Found::kTemp;
        return f;
      }
      add(all, 0, host, *ips);
    } else {
      std::vector<dns::Mx> real;
      for (dns::Mx& m : *mx)
        if (!m.name.empty()) real.push_back(std::move(m));
      if (real.empty()) {
        f.kind = Found::kNullMx;
        return f;
      }
      bool soft = false;
      for (const dns::Mx& m : order_mx(std::move(real), seed)) {
        if (all.size() >= kMaxTargets) break;
        auto ips = dns.addresses(m.name);
        if (!ips) {
          // An exchanger that does not exist is skipped, as qmail does;
          // one that fails for now makes "no address" temporary.
          if (ips.error().temporary()) soft = true;
          continue;
        }
        add(all, m.pref, m.name, *ips);
      }
      if (all.empty()) {
        f.kind = soft ? Found::kTemp : Found::kNoAddress;
        return f;
      }
    }
    if (all.empty()) {
      f.kind = Found::kNoAddress;
      return f;
    }
  }
  auto kept = skip_self(std::move(all), me);
  if (!kept) {
    f.kind = Found::kSelf;
    return f;
  }
  f.targets = std::move(*kept);
  return f;
}

}  // namespace qng::remote

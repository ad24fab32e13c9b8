// relaypolicy.cc: badmailfrom, rcpthosts, our domains, our address literals.
#include "relaypolicy.h"

#include <ifaddrs.h>

#include <cerrno>

#include "address.h"
#include "ip.h"

namespace qng {

namespace {

Result<std::set<std::string>> lowercase_lines(const Control& c, const std::string& name) {
  auto lines = c.lines(name);
  if (!lines) return lines.error();
  std::set<std::string> out;
  for (const auto& l : *lines) out.insert(lowercase(l));
  return out;
}

std::optional<std::vector<IpAddress>> interface_addresses() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == -1) return std::nullopt;
  std::vector<IpAddress> out;
  out.push_back(IpAddress{});  // netqmail: 0.0.0.0 is us
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (auto ip = from_sockaddr(i->ifa_addr)) out.push_back(*ip);
  }
  ::freeifaddrs(list);
  return out;
}

}  // namespace

Result<RelayPolicy> RelayPolicy::load(const Control& control) {
  RelayPolicy p;
  auto bmf = lowercase_lines(control, "badmailfrom");
  if (!bmf) return bmf.error();
  p.badmailfrom_ = std::move(*bmf);

  auto have = control.exists("rcpthosts");
  if (!have) return have.error();
  p.have_rcpthosts_ = *have;
  auto rh = lowercase_lines(control, "rcpthosts");
  if (!rh) return rh.error();
  p.rcpthosts_ = std::move(*rh);
  auto mrh = CdbReader::open(control.path("morercpthosts.cdb"));
  if (mrh)
    p.morercpthosts_.emplace(std::move(*mrh));
  else if (mrh.error().code() != ENOENT)
    return mrh.error();
  auto open = control.number("openrelay", 0);
  if (!open) return open.error();
  p.openrelay_ = *open == 1;

  auto have_locals = control.exists("locals");
  if (!have_locals) return have_locals.error();
  std::vector<std::string> locals;
  if (*have_locals) {
    auto l = control.lines("locals");
    if (!l) return l.error();
    locals = std::move(*l);
  } else {
    auto me = control.line("me");
    if (!me) return me.error();
    if (*me) locals.push_back(**me);
  }
  p.domains_.set_locals(locals);
  auto vd = control.lines("virtualdomains");
  if (!vd) return vd.error();
  p.domains_.set_virtualdomains(*vd);
  auto pct = control.lines("percenthack");
  if (!pct) return pct.error();
  p.domains_.set_percenthack(*pct);
  auto noat = control.line_or("envnoathost", true, "envnoathost");
  if (!noat) return noat.error();
  p.envnoathost_ = lowercase(*noat);

  auto lip = control.line_or("localiphost", true, "localhost");
  if (!lip) return lip.error();
  p.localiphost_ = std::move(*lip);
  return p;
}

bool RelayPolicy::badmailfrom(std::string_view sender) const {
  if (badmailfrom_.empty()) return false;
  std::string s = lowercase(sender);
  if (badmailfrom_.count(s)) return true;
  size_t at = s.rfind('@');
  return at != std::string::npos && badmailfrom_.count(s.substr(at)) != 0;
}

bool RelayPolicy::listed(const std::set<std::string>& set, std::string_view domain) const {
  for (size_t i = 0; i < domain.size(); ++i)
    if ((i == 0 || domain[i] == '.') && set.count(std::string(domain.substr(i)))) return true;
  return false;
}

Result<bool> RelayPolicy::rcpthost_allowed(std::string_view address) const {
  // Judge the address qmail-send will route, envnoathost appended and
  // control/percenthack applied: otherwise user%host@ours (or user%host)
  // passes as ours and then leaves for host, qmail's percent-hack relay.
  // A virtualdomains prepend does not change the domain.
  Rewritten routed = rewrite_recipient(address, domains_, envnoathost_);
  size_t at = routed.address.rfind('@');
  std::string domain = lowercase(std::string_view(routed.address).substr(at + 1));
  // qmail: an address without '@' is ours, unless the percent hack moved it.
  if (address.find('@') == std::string_view::npos && domain == envnoathost_) return true;
  if (!have_rcpthosts_) {
    if (openrelay_) return true;  // qmail's behaviour, asked for explicitly
    if (routed.channel == kLocal) return true;
  } else if (listed(rcpthosts_, domain)) {
    return true;
  }
  if (!morercpthosts_) return false;
  for (size_t i = 0; i < domain.size(); ++i) {
    if (i != 0 && domain[i] != '.') continue;
    auto hit = morercpthosts_->find(std::string_view(domain).substr(i));
    if (!hit) return hit.error();
    if (*hit) return true;
  }
  return false;
}

bool RelayPolicy::ours(std::string_view address) const {
  if (address.find('@') == std::string_view::npos) return true;  // qmail-send adds envnoathost
  return rewrite_recipient(address, domains_, "").channel == kLocal;
}

std::optional<std::string> RelayPolicy::rewrite_literal(std::string address) const {
  size_t at = address.rfind('@');
  if (at == std::string::npos) return address;
  auto ip = parse_ip_literal(std::string_view(address).substr(at + 1));
  if (!ip) return address;
  if (!ips_) {
    ips_ = interface_addresses();
    if (!ips_) return std::nullopt;
  }
  for (const auto& mine : *ips_) {
    if (mine == *ip) {
      address.resize(at + 1);
      address += localiphost_;
      return address;
    }
  }
  return address;
}

void RelayPolicy::set_local_ips(std::vector<IpAddress> ips) { ips_ = std::move(ips); }

}  // namespace qng

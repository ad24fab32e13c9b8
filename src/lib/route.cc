// route.cc: recipient classification and virtualdomains prefixes.
#include "route.h"

#include "address.h"

namespace qng {

void AddressMaps::set_locals(const std::vector<std::string>& lines) {
  locals_.clear();
  for (const auto& l : lines) locals_.insert(lowercase(l));
}

void AddressMaps::set_percenthack(const std::vector<std::string>& lines) {
  percenthack_.clear();
  for (const auto& l : lines) percenthack_.insert(lowercase(l));
}

void AddressMaps::set_virtualdomains(const std::vector<std::string>& lines) {
  vdoms_.clear();
  for (const auto& l : lines) {
    size_t colon = l.find(':');
    if (colon == std::string::npos) continue;
    vdoms_.insert_or_assign(lowercase(std::string_view(l).substr(0, colon)), l.substr(colon + 1));
  }
}

bool AddressMaps::is_local(std::string_view domain) const {
  return locals_.count(lowercase(domain)) != 0;
}

bool AddressMaps::is_percenthack(std::string_view domain) const {
  return percenthack_.count(lowercase(domain)) != 0;
}

const std::string* AddressMaps::virtual_prepend(std::string_view key) const {
  auto it = vdoms_.find(lowercase(key));
  return it == vdoms_.end() ? nullptr : &it->second;
}

Rewritten rewrite_recipient(std::string_view recipient, const AddressMaps& maps,
                            std::string_view envnoathost) {
  std::string addr(recipient);
  size_t at = addr.rfind('@');
  if (at == std::string::npos) {
    at = addr.size();
    addr += '@';
    addr += envnoathost;
  }

  // user%host%relay@domain: one '%' per round, from the right.
  while (maps.is_percenthack(std::string_view(addr).substr(at + 1))) {
    size_t pct = std::string_view(addr).substr(0, at).rfind('%');
    if (pct == std::string_view::npos) break;
    addr.resize(at);
    at = pct;
    addr[at] = '@';
  }

  at = addr.rfind('@');
  std::string_view view(addr);
  if (maps.is_local(view.substr(at + 1))) return {kLocal, addr};

  // Keys: the whole address, the domain, every ".suffix", the empty key.
  for (size_t i = 0; i <= addr.size(); ++i) {
    bool key = i == 0 || i == at + 1 || i == addr.size() || (i > at && addr[i] == '.');
    if (!key) continue;
    const std::string* prepend = maps.virtual_prepend(view.substr(i));
    if (!prepend) continue;
    if (prepend->empty()) break;  // an exception: not virtual
    return {kLocal, *prepend + "-" + addr};
  }
  return {kRemote, addr};
}

std::string strip_vdom_prepend(std::string_view recipient, const AddressMaps& maps) {
  size_t at = recipient.rfind('@');
  if (at == std::string_view::npos) return std::string(recipient);
  std::string_view domain = recipient.substr(at + 1);
  for (size_t i = 0; i <= domain.size(); ++i) {
    if (i != 0 && i != domain.size() && domain[i] != '.') continue;
    const std::string* prepend = maps.virtual_prepend(domain.substr(i));
    if (!prepend) continue;
    if (prepend->empty()) break;
    // The prefix must be exactly "P-" (case-sensitive, as qmail).
    if (recipient.substr(0, prepend->size()) != *prepend) break;
    if (recipient.size() <= prepend->size() || recipient[prepend->size()] != '-') break;
    return std::string(recipient.substr(prepend->size() + 1));
  }
  return std::string(recipient);
}

}  // namespace qng

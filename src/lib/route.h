// route.h: recipient classification (local or remote) and rewriting, as
// qmail-send does it when it preprocesses todo/N: envnoathost, percenthack,
// locals, virtualdomains, in that order. Pure functions, unit tested.
// qmail-send routes mail with it; qmail-checkpassword routes a login and
// qmail-smtpd/qmail-qmtpd tell our own domains with the same tables.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace qng {

// A recipient is delivered by qmail-lspawn (local) or qmail-rspawn (remote);
// the value indexes qmail-send's per-channel tables.
enum Channel : int { kLocal = 0, kRemote = 1 };

// The address tables of control/locals, control/percenthack and
// control/virtualdomains. Keys are kept lowercased: lookups ignore case.
class AddressMaps {
 public:
  // One domain per line (control/locals).
  void set_locals(const std::vector<std::string>& lines);
  // One domain per line (control/percenthack).
  void set_percenthack(const std::vector<std::string>& lines);
  // `key:prepend` lines (control/virtualdomains); the key ends at the first
  // colon; a line without a colon is ignored; when a key repeats, the last
  // line wins (as qmail's constmap).
  void set_virtualdomains(const std::vector<std::string>& lines);

  bool is_local(std::string_view domain) const;
  bool is_percenthack(std::string_view domain) const;
  // The prepend of `key`, or nullptr when the key is not listed. An empty
  // prepend is an exception ("not virtual").
  const std::string* virtual_prepend(std::string_view key) const;

 private:
  std::unordered_set<std::string> locals_;
  std::unordered_set<std::string> percenthack_;
  std::unordered_map<std::string, std::string> vdoms_;
};

struct Rewritten {
  Channel channel;
  std::string address;  // what goes into local/S/N or remote/S/N
};

// Classifies one recipient of todo/N:
// 1. no '@': append "@envnoathost";
// 2. while the domain is in percenthack and the local part has a '%', the
//    last '%' becomes the '@' (user%host@domain -> user@host);
// 3. domain in locals: local, unchanged;
// 4. virtualdomains, keys tried in order: user@domain, domain, each suffix
//    .sub.domain from the left, the empty key; the first key found decides:
//    a nonempty prepend P gives local P-user@domain, an empty one remote;
// 5. otherwise remote.
Rewritten rewrite_recipient(std::string_view recipient, const AddressMaps& maps,
                            std::string_view envnoathost);

// For a bounce paragraph: strips the "P-" that virtualdomains put in front
// of a local recipient, when the recipient's domain (or a suffix, or the
// catch-all) still maps to P. Otherwise returns the recipient unchanged.
std::string strip_vdom_prepend(std::string_view recipient, const AddressMaps& maps);

}  // namespace qng

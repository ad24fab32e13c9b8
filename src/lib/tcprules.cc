// tcprules.cc: compiling and following ucspi-tcp rules (see tcprules.h).
#include "tcprules.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstdio>

#include "fd.h"

namespace qng {

namespace {

constexpr unsigned long kOctetMax = 255;

Error bad_line(std::string_view line) {
  return Error::perm("unable to parse this line: " + std::string(line));
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool is_instruction(std::string_view s) {
  return starts_with(s, "allow") || starts_with(s, "deny");
}

// The colon that ends the address: the first one followed by allow or
// deny, so that IPv6 addresses may contain colons. npos when the line has
// no colon at all (ignored, as tcprules does); the first colon when none is
// followed by an instruction (a syntax error, reported by the caller).
size_t address_end(std::string_view line) {
  size_t first = line.find(':');
  for (size_t c = first; c != std::string_view::npos; c = line.find(':', c + 1))
    if (is_instruction(line.substr(c + 1))) return c;
  return first;
}

// ucspi-tcp's getnum: digits only (none means 0); saturates far above 255.
bool range_number(std::string_view s, unsigned long& out) {
  unsigned long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    if (v <= 100000) v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  out = v;
  return true;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// An IPv6 address or prefix as tcpserver will compare it: brackets dropped,
// a full address in inet_ntop's compressed form, a prefix in lower case.
std::string ipv6_key(std::string_view address) {
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']')
    address = address.substr(1, address.size() - 2);
  std::string s(address);
  struct in6_addr a;
  char buf[INET6_ADDRSTRLEN];
  if (::inet_pton(AF_INET6, s.c_str(), &a) == 1 && ::inet_ntop(AF_INET6, &a, buf, sizeof buf))
    return buf;
  for (char& c : s) c = lower(c);
  return s;
}

// tcprules' doaddressdata: one key, or one per address of a last-octet range
// such as 1.2.3.4-7 (the upper end capped at 255).
Result<std::vector<std::string>> address_keys(std::string_view address, std::string_view line) {
  std::vector<std::string> keys;
  bool plain = address.find('=') == std::string_view::npos &&
               address.find('@') == std::string_view::npos;
  if (plain && address.find(':') != std::string_view::npos) {
    keys.push_back(ipv6_key(address));
    return keys;
  }
  size_t dash = address.find('-');
  if (!plain || dash == std::string_view::npos) {
    keys.emplace_back(address);
    return keys;
  }
  size_t dot = address.substr(0, dash).rfind('.');
  size_t left = dot == std::string_view::npos ? 0 : dot + 1;
  size_t right = address.find('.', dash + 1);
  if (right == std::string_view::npos) right = address.size();
  unsigned long bot = 0;
  unsigned long top = 0;
  if (!range_number(address.substr(left, dash - left), bot) ||
      !range_number(address.substr(dash + 1, right - dash - 1), top))
    return bad_line(line);
  if (top > kOctetMax) top = kOctetMax;
  for (unsigned long n = bot; n <= top; ++n) {
    std::string key(address.substr(0, left));
    key += std::to_string(n);
    key += address.substr(right);
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace

Result<std::vector<RuleRecord>> parse_rule_line(std::string_view line) {
  std::vector<RuleRecord> out;
  if (line.empty() || line[0] == '#') return out;
  while (!line.empty()) {
    char c = line.back();
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') break;
    line.remove_suffix(1);
  }
  size_t colon = address_end(line);
  if (colon == std::string_view::npos) return out;
  std::string_view address = line.substr(0, colon);
  std::string_view x = line.substr(colon + 1);
  std::string data;
  if (starts_with(x, "deny")) {
    data.append("D", 2);  // "D" and its NUL, as tcprules
    x.remove_prefix(4);
  } else if (starts_with(x, "allow")) {
    x.remove_prefix(5);
  } else {
    return bad_line(line);
  }
  while (!x.empty()) {
    if (x[0] != ',') return bad_line(line);
    x.remove_prefix(1);
    if (!x.empty() && x[0] == '!') {  // ,!VAR: unset VAR
      size_t end = x.find(',');
      if (end == std::string_view::npos) end = x.size();
      std::string_view name = x.substr(1, end - 1);
      if (name.empty() || name.find('=') != std::string_view::npos ||
          name.find('\0') != std::string_view::npos)
        return bad_line(line);
      data.push_back('-');
      data.append(name);
      data.push_back('\0');
      x.remove_prefix(end);
      continue;
    }
    size_t eq = x.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 >= x.size()) return bad_line(line);
    std::string_view name = x.substr(0, eq);
    char quote = x[eq + 1];
    x.remove_prefix(eq + 2);
    size_t close = x.find(quote);
    if (close == std::string_view::npos) return bad_line(line);
    std::string_view value = x.substr(0, close);
    if (name.find('\0') != std::string_view::npos || value.find('\0') != std::string_view::npos)
      return bad_line(line);
    data.push_back('+');
    data.append(name);
    data.push_back('=');
    data.append(value);
    data.push_back('\0');
    x.remove_prefix(close + 1);
  }
  auto keys = address_keys(address, line);
  if (!keys) return keys.error();
  for (auto& k : *keys) out.push_back({std::move(k), data});
  return out;
}

Result<std::vector<RuleRecord>> compile_rules(std::string_view text) {
  std::vector<RuleRecord> all;
  size_t lineno = 0;
  while (!text.empty()) {
    ++lineno;
    size_t nl = text.find('\n');
    size_t len = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view line = text.substr(0, len);
    text.remove_prefix(len);
    if (line.size() > kRuleLineMax)
      return Error::perm("line " + std::to_string(lineno) + " is too long");
    auto recs = parse_rule_line(line);
    if (!recs) return recs.error();
    for (auto& r : *recs) all.push_back(std::move(r));
  }
  return all;
}

Result<RulesWriter> RulesWriter::create(const std::string& cdb, const std::string& tmp) {
  auto w = CdbWriter::create(tmp, 0644);
  if (!w) return Error::sys(w.error().code(), "unable to create " + tmp);
  return RulesWriter(std::move(*w), cdb, tmp);
}

Status RulesWriter::add(const RuleRecord& record) {
  if (auto st = writer_.add(record.key, record.data); !st)
    return Error::sys(st.error().code(), "unable to write to " + tmp_);
  return {};
}

Status RulesWriter::finish() {
  if (auto st = writer_.finish(); !st)
    return Error::sys(st.error().code(), "unable to write to " + tmp_);
  if (::rename(tmp_.c_str(), cdb_.c_str()) == -1)
    return Error::last("unable to move " + tmp_ + " to " + cdb_);
  return fsync_dir(dir_of(cdb_));
}

Status compile_rules_file(std::string_view text, const std::string& cdb,
                          const std::string& tmp) {
  auto records = compile_rules(text);
  if (!records) return records.error();
  auto w = RulesWriter::create(cdb, tmp);
  if (!w) return w.error();
  for (const auto& r : *records)
    if (auto st = w->add(r); !st) return st;
  return w->finish();
}

RuleAction decode_rule_data(std::string_view data) {
  RuleAction a;
  for (;;) {
    size_t nul = data.find('\0');
    if (nul == std::string_view::npos) break;  // a tail without NUL is ignored
    std::string_view entry = data.substr(0, nul);
    data.remove_prefix(nul + 1);
    if (entry.empty()) continue;
    switch (entry[0]) {
      case 'D':
        a.deny = true;
        break;
      case '+': {
        size_t eq = entry.find('=');
        if (eq == std::string_view::npos) break;
        a.env.emplace_back(std::string(entry.substr(1, eq - 1)),
                           std::string(entry.substr(eq + 1)));
        break;
      }
      case '-':
        a.env.emplace_back(std::string(entry.substr(1)), std::nullopt);
        break;
      default:
        break;  // unknown entries are skipped, as tcpserver does
    }
  }
  return a;
}

std::vector<std::string> rule_keys(std::string_view ip, std::string_view host,
                                   std::string_view info) {
  std::vector<std::string> keys;
  if (!info.empty()) {
    keys.push_back(std::string(info) + "@" + std::string(ip));
    if (!host.empty()) keys.push_back(std::string(info) + "@=" + std::string(host));
  }
  keys.emplace_back(ip);
  if (!host.empty()) keys.push_back("=" + std::string(host));
  for (size_t len = ip.size(); len-- > 1;)
    if (ip[len - 1] == '.' || ip[len - 1] == ':') keys.emplace_back(ip.substr(0, len));
  if (!host.empty()) {
    for (size_t i = 0; i < host.size(); ++i)
      if (host[i] == '.') keys.push_back("=" + std::string(host.substr(i)));
    keys.emplace_back("=");
  }
  keys.emplace_back("");
  return keys;
}

Result<std::optional<RuleAction>> find_rule(const CdbReader& db, std::string_view ip,
                                            std::string_view host, std::string_view info) {
  for (const auto& key : rule_keys(ip, host, info)) {
    auto data = db.find(key);
    if (!data) return data.error();
    if (*data) return std::optional<RuleAction>(decode_rule_data(**data));
  }
  return std::optional<RuleAction>();
}

}  // namespace qng

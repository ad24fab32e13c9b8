// routes.cc: qmail-remote's control files (routes.h).
#include "routes.h"

#include <sys/stat.h>

#include <cerrno>

#include "address.h"
#include "dns.h"
#include "fd.h"
#include "size.h"

namespace qng::remote {

namespace {

constexpr unsigned kMaxTimeout = 86400;
constexpr size_t kMaxSmtpauth = 65536;

unsigned clamp_timeout(uint64_t v) {
  if (v < 1) return 1;
  if (v > kMaxTimeout) return kMaxTimeout;
  return static_cast<unsigned>(v);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

RouteTable::RouteTable(const std::vector<std::string>& lines) {
  for (const std::string& l : lines) {
    size_t colon = l.find(':');
    if (colon == std::string::npos) continue;
    map_[lowercase(std::string_view(l).substr(0, colon))] = l.substr(colon + 1);
  }
}

std::optional<std::string> RouteTable::find_key(std::string_view key) const {
  auto it = map_.find(lowercase(key));
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> RouteTable::find(std::string_view host, bool with_default) const {
  for (size_t i = 0; i < host.size(); ++i) {
    if (i != 0 && host[i] != '.') continue;
    if (auto v = find_key(host.substr(i))) return v;
  }
  if (with_default) return find_key("");
  return std::nullopt;
}

std::optional<Relay> parse_relay(std::string_view value, uint16_t default_port) {
  Relay r;
  r.port = default_port;
  std::string_view rest;
  if (!value.empty() && value.front() == '[') {
    size_t close = value.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    r.host = std::string(value.substr(0, close + 1));
    rest = value.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
  } else {
    size_t colon = value.find(':');
    r.host = std::string(value.substr(0, colon));
    if (colon != std::string_view::npos) rest = value.substr(colon);
  }
  if (!rest.empty()) {
    auto port = parse_decimal(rest.substr(1), 65535);
    if (!port || *port == 0) return std::nullopt;
    r.port = static_cast<uint16_t>(*port);
  }
  return r;
}

std::optional<TlsPolicy> parse_tls_policy(std::string_view value) {
  TlsPolicy p;
  std::string_view level = value;
  if (size_t comma = value.find(','); comma != std::string_view::npos) {
    level = value.substr(0, comma);
    std::string_view opts = value.substr(comma + 1);
    while (!opts.empty()) {
      size_t c = opts.find(',');
      std::string_view opt = trim(opts.substr(0, c));
      if (iequals(opt, "plainauth"))
        p.plain_auth = true;
      else
        return std::nullopt;
      opts = c == std::string_view::npos ? std::string_view() : opts.substr(c + 1);
    }
  }
  level = trim(level);
  if (iequals(level, "none"))
    p.level = TlsLevel::kNone;
  else if (iequals(level, "may"))
    p.level = TlsLevel::kMay;
  else if (iequals(level, "encrypt"))
    p.level = TlsLevel::kEncrypt;
  else if (iequals(level, "verify"))
    p.level = TlsLevel::kVerify;
  else
    return std::nullopt;
  return p;
}

const char* tls_level_name(TlsLevel level) {
  switch (level) {
    case TlsLevel::kNone: return "none";
    case TlsLevel::kMay: return "may";
    case TlsLevel::kEncrypt: return "encrypt";
    case TlsLevel::kVerify: return "verify";
  }
  return "?";
}

std::optional<Credentials> find_credentials(const std::vector<std::string>& lines,
                                            std::string_view relay) {
  std::optional<Credentials> found;
  for (const std::string& l : lines) {
    size_t c1 = l.find(':');
    if (c1 == std::string::npos) continue;
    size_t c2 = l.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    if (!iequals(std::string_view(l).substr(0, c1), relay)) continue;
    found = Credentials{l.substr(c1 + 1, c2 - c1 - 1), l.substr(c2 + 1)};
  }
  return found;
}

std::optional<IpAddress> source_for(const std::vector<IpAddress>& outgoing, const IpAddress& ip) {
  for (const IpAddress& o : outgoing)
    if (o.family == ip.family) return o;
  return std::nullopt;
}

Result<Config> read_config(const Control& control, std::string& why) {
  constexpr const char* kUnreadable = "Unable to read control files. (#4.3.0)\n";
  Config c;
  auto fail = [&](std::string text) {
    why = std::move(text);
    return Error::temp(why);
  };

  auto helo = control.line("helohost");
  if (!helo) return fail(kUnreadable);
  if (*helo) {
    c.helohost = **helo;
  } else {
    auto me = control.line("me");
    if (!me || !*me) return fail(kUnreadable);
    c.helohost = **me;
  }

  auto tc = control.number("timeoutconnect", 60);
  auto tr = control.number("timeoutremote", 1200);
  if (!tc || !tr) return fail(kUnreadable);
  c.timeout_connect = clamp_timeout(*tc);
  c.timeout_remote = clamp_timeout(*tr);

  auto routes = control.lines("smtproutes");
  if (!routes) return fail(kUnreadable);
  c.routes = RouteTable(*routes);

  auto qmtproutes = control.lines("qmtproutes");
  if (!qmtproutes) return fail(kUnreadable);
  c.qmtproutes = RouteTable(*qmtproutes);

  auto policy = control.lines("tlspolicy");
  if (!policy) return fail(kUnreadable);
  c.tlspolicy = RouteTable(*policy);

  auto outgoing = control.lines("outgoingip");
  if (!outgoing) return fail(kUnreadable);
  for (const std::string& l : *outgoing) {
    auto ip = parse_ip(trim(l));
    if (!ip) return fail("Unable to parse control/outgoingip line " + l + ". (#4.3.0)\n");
    c.outgoing.push_back(*ip);
  }

  auto servers = control.lines("dnsservers");
  if (!servers) return fail(kUnreadable);
  for (const std::string& l : *servers) {
    auto s = dns::parse_dns_server(trim(l));
    if (!s) return fail("Unable to parse control/dnsservers line " + l + ". (#4.3.0)\n");
    c.dnsservers.push_back(*s);
  }

  auto ca = control.exists("tlsca.pem");
  if (!ca) return fail(kUnreadable);
  if (*ca) c.tlsca = control.path("tlsca.pem");
  return c;
}

Result<TlsPolicy> find_tls_policy(const Config& config, std::string_view host,
                                  std::string_view relay, std::string& why) {
  std::optional<std::string> v = config.tlspolicy.find(host, false);
  if (!v && !relay.empty()) v = config.tlspolicy.find(relay, false);
  if (!v) v = config.tlspolicy.find_key("");
  if (!v) return TlsPolicy{};
  auto p = parse_tls_policy(*v);
  if (!p) {
    why = "Unable to parse control/tlspolicy value " + *v + ". (#4.3.0)\n";
    return Error::temp(why);
  }
  return *p;
}

Result<std::optional<Credentials>> read_credentials(const Control& control,
                                                    std::string_view relay, std::string& why) {
  auto fd = open_read(control.path("smtpauth"));
  if (!fd) {
    if (fd.error().code() == ENOENT) return std::optional<Credentials>{};
    why = "Unable to read control/smtpauth: " + fd.error().message() + ". (#4.3.0)\n";
    return Error::temp(why);
  }
  struct stat st;
  if (::fstat(fd->get(), &st) == -1) {
    why = "Unable to read control/smtpauth. (#4.3.0)\n";
    return Error::temp(why);
  }
  if ((st.st_mode & 077) != 0) {
    why = "control/smtpauth is open to group or others; refusing to use it "
          "(chmod 600 control/smtpauth). (#4.3.0)\n";
    return Error::temp(why);
  }
  std::string text;
  char buf[4096];
  for (;;) {
    auto n = read_some(fd->get(), buf, sizeof buf);
    if (!n) {
      why = "Unable to read control/smtpauth. (#4.3.0)\n";
      return Error::temp(why);
    }
    if (*n == 0) break;
    if (!fits(text.size(), *n, kMaxSmtpauth)) {
      why = "control/smtpauth is too big. (#4.3.0)\n";
      return Error::temp(why);
    }
    text.append(buf, *n);
  }
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string l = text.substr(pos, end - pos);
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (!l.empty() && l[0] != '#') lines.push_back(std::move(l));
    pos = end + 1;
  }
  return find_credentials(lines, relay);
}

}  // namespace qng::remote

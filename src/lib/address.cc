// address.cc: SMTP path parsing (qmail-smtpd's addrparse), quote.c, domains.
#include "address.h"

#include <arpa/inet.h>

#include <cerrno>

namespace qng {
namespace {

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

Error syntax(const char* what) { return Error::perm(std::string("bad address: ") + what, EINVAL); }

// The ESMTP parameters: words separated by spaces (or tabs).
std::vector<std::string> split_params(std::string_view rest) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
    size_t start = i;
    while (i < rest.size() && rest[i] != ' ' && rest[i] != '\t') ++i;
    if (i > start) out.emplace_back(rest.substr(start, i - start));
  }
  return out;
}

// qmail's quote.c: the bytes a local part may hold unquoted (RFC 821 atoms).
bool atom_char(unsigned char c) {
  if (c >= 128 || c <= ' ' || c == 127) return false;
  switch (c) {
    case '"': case '(': case ')': case ',': case ':': case ';': case '<':
    case '>': case '@': case '[': case '\\': case ']':
      return false;
    default:
      return true;
  }
}

bool quote_needed(std::string_view local) {
  if (local.empty()) return true;  // quote.c: ""@domain, or <@domain> reads as a route
  for (char c : local)
    if (!atom_char(static_cast<unsigned char>(c))) return true;
  if (local.front() == '.' || local.back() == '.') return true;
  return local.find("..") != std::string_view::npos;
}

bool valid_label(std::string_view label, bool utf8) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char ch : label) {
    auto c = static_cast<unsigned char>(ch);
    if (is_letter(ch) || (c >= '0' && c <= '9') || c == '-') continue;
    if (utf8 && c >= 0x80) continue;
    return false;
  }
  return true;
}

bool valid_literal(std::string_view inside) {
  constexpr std::string_view kV6 = "IPv6:";
  unsigned char buf[16];
  if (inside.size() > kV6.size() && iequals(inside.substr(0, kV6.size()), kV6)) {
    std::string ip(inside.substr(kV6.size()));
    if (ip.size() > 64) return false;
    return ::inet_pton(AF_INET6, ip.c_str(), buf) == 1;
  }
  std::string ip(inside);
  if (ip.size() > 15) return false;
  return ::inet_pton(AF_INET, ip.c_str(), buf) == 1;
}

}  // namespace

Result<SmtpPath> parse_smtp_path(std::string_view arg) {
  // Control bytes would end up in the envelope, the queue or a log line.
  if (arg.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos)
    return syntax("NUL, CR or LF");

  size_t p = 0;
  char terminator = '>';
  if (size_t lt = arg.find('<'); lt != std::string_view::npos) {
    p = lt + 1;
  } else {
    // qmail's leniency for partners that never read RFC 821: no brackets,
    // the address runs from after "FROM:" (spaces skipped) up to a space.
    terminator = ' ';
    size_t colon = arg.find(':');
    size_t space = arg.find(' ');
    if (colon != std::string_view::npos && colon > 0 && colon < space) {
      bool keyword = true;
      for (size_t i = 0; i < colon; ++i) keyword = keyword && is_letter(arg[i]);
      if (keyword) p = colon + 1;
    }
    while (p < arg.size() && arg[p] == ' ') ++p;
  }

  // A source route "@a,@b:" is dropped, as RFC 5321 says it may be.
  if (p < arg.size() && arg[p] == '@') {
    size_t i = p;
    while (i < arg.size() && arg[i] != ':' && arg[i] != terminator) ++i;
    if (i == arg.size() || arg[i] != ':') return syntax("source route without ':'");
    p = i + 1;
  }

  SmtpPath out;
  bool escaped = false;
  bool quoted = false;
  bool terminated = false;
  size_t i = p;
  for (; i < arg.size(); ++i) {
    char c = arg[i];
    if (escaped) {
      escaped = false;
    } else if (!quoted && c == terminator) {
      terminated = true;
      break;
    } else if (c == '\\') {
      escaped = true;
      continue;
    } else if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (out.address.size() >= kMaxAddress)
      return Error::perm("address longer than " + std::to_string(kMaxAddress) + " bytes",
                         E2BIG);
    out.address.push_back(c);
  }
  if (quoted || escaped) return syntax("unbalanced quotes");
  if (terminator == '>' && !terminated) return syntax("'<' without '>'");
  if (terminated) out.params = split_params(arg.substr(i + 1));
  return out;
}

std::string quote_address(std::string_view address) {
  if (address.empty()) return {};  // <> stays <> (quote2)
  AddressParts parts = split_address(address);
  if (!quote_needed(parts.local)) return std::string(address);
  std::string out;
  out.reserve(address.size() + 8);
  out.push_back('"');
  for (char c : parts.local) {
    if (c == '\r' || c == '\n' || c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  if (parts.has_at) {
    out.push_back('@');
    out.append(parts.domain);
  }
  return out;
}

AddressParts split_address(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {address, {}, false};
  return {address.substr(0, at), address.substr(at + 1), true};
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool valid_domain(std::string_view domain, bool utf8) {
  if (domain.empty() || domain.size() > 255) return false;
  if (domain.front() == '[') {
    if (domain.size() < 3 || domain.back() != ']') return false;
    return valid_literal(domain.substr(1, domain.size() - 2));
  }
  size_t pos = 0;
  for (;;) {
    size_t dot = domain.find('.', pos);
    std::string_view label =
        domain.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    if (!valid_label(label, utf8)) return false;
    if (dot == std::string_view::npos) return true;
    pos = dot + 1;
  }
}

}  // namespace qng

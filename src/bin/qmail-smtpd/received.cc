// received.cc: the Received line (qmail's received.c plus RFC 3848 names).
#include "received.h"

#include "address.h"
#include "date.h"

namespace qng::smtpd {

namespace {

bool safe_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '.': case '@': case '%': case '+': case '/': case '=': case ':': case '-':
      return true;
    default:
      return false;
  }
}

std::string safe(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (!safe_char(c)) c = '?';
  return out;
}

// OpenSSL's names are ours to trust, but they still go into a header.
std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c <= ' ' || c > '~' || c == '(' || c == ')' || c == '\\') c = '?';
  return out;
}

}  // namespace

std::string protocol_name(bool ehlo, bool utf8, bool tls, bool authenticated) {
  std::string p;
  if (utf8)
    p = "UTF8SMTP";
  else if (ehlo || tls || authenticated)  // TLS and AUTH are extensions
    p = "ESMTP";
  else
    return "SMTP";
  if (tls) p += 'S';
  if (authenticated) p += 'A';
  return p;
}

std::string received_line(const ReceivedInfo& in) {
  std::string r = "Received: from ";
  r += safe(in.remotehost);
  if (!iequals(in.remotehost, in.helo)) {
    r += " (HELO ";
    r += safe(in.helo);
    r += ")";
  }
  r += " (";
  if (in.remoteinfo) {
    r += safe(*in.remoteinfo);
    r += "@";
  }
  r += safe(in.remoteip);
  r += ")\n  by ";
  r += safe(in.localhost);
  r += " with ";
  r += protocol_name(in.ehlo, in.utf8, in.tls_version.has_value(), in.authenticated);
  if (in.tls_version) {
    r += " (";
    r += printable(*in.tls_version);
    r += " cipher ";
    r += printable(in.tls_cipher);
    r += ")";
  }
  r += "; ";
  r += date822(in.when);
  r += "\n";
  return r;
}

}  // namespace qng::smtpd

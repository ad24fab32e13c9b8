// received.cc: the Received line (the library's, src/lib/received.h, plus
// RFC 3848 names and the TLS comment).
#include "received.h"

#include "../../lib/received.h"
#include "address.h"

namespace qng::smtpd {

namespace {

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
  TcpPeer peer{in.remotehost, in.remoteinfo, in.remoteip, in.localhost};
  std::optional<std::string> helo;
  if (!iequals(in.remotehost, in.helo)) helo = in.helo;
  std::string comment;
  if (in.tls_version) {
    comment += " (";
    comment += printable(*in.tls_version);
    comment += " cipher ";
    comment += printable(in.tls_cipher);
    comment += ")";
  }
  return qng::received_line(peer,
                            helo,
                            protocol_name(in.ehlo, in.utf8, in.tls_version.has_value(),
                                          in.authenticated),
                            comment, in.when);
}

}  // namespace qng::smtpd

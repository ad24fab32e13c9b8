// received.h: the Received line qmail-smtpd puts on top of each message.
//
//   Received: from REMOTEHOST (HELO HELO) (REMOTEINFO@REMOTEIP)
//     by LOCALHOST with PROTOCOL (TLS1.3 cipher NAME); DATE
//
// qmail's line (received.c): "(HELO x)" only when x differs from the remote
// host name (ignoring case), "REMOTEINFO@" only when known, every byte
// outside [A-Za-z0-9.@%+/=:-] turned into '?'. The protocol names are RFC
// 3848's and RFC 6531's (SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA, UTF8SMTP,
// UTF8SMTPS, UTF8SMTPA, UTF8SMTPSA); the TLS comment names the version and
// cipher, as Postfix records them.
#pragma once

#include <ctime>
#include <optional>
#include <string>

namespace qng::smtpd {

struct ReceivedInfo {
  std::string remotehost;
  std::string helo;
  std::optional<std::string> remoteinfo;
  std::string remoteip;
  std::string localhost;
  bool ehlo = false;
  bool utf8 = false;           // MAIL ... SMTPUTF8
  bool authenticated = false;
  std::optional<std::string> tls_version;  // set under TLS
  std::string tls_cipher;
  time_t when = 0;
};

std::string protocol_name(bool ehlo, bool utf8, bool tls, bool authenticated);
std::string received_line(const ReceivedInfo& info);

}  // namespace qng::smtpd

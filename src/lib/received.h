// received.h: qmail's Received line (received.c), for every server that
// takes mail from the network (qmail-smtpd, qmail-qmtpd, qmail-qmqpd):
//
//   Received: from HOST (HELO HELO) (INFO@IP)\n  by LOCAL with PROTOCOL; DATE\n
//
// "(HELO x)" only when the caller gives one, "INFO@" only when known; every
// byte of those fields outside [A-Za-z0-9.@%+/=:-] becomes '?'.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace qng {

// ucspi-tcp's environment as qmail's received.c uses it.
struct TcpPeer {
  std::string remotehost = "unknown";  // $TCPREMOTEHOST
  std::optional<std::string> remoteinfo;  // $TCPREMOTEINFO
  std::string remoteip = "unknown";    // $TCPREMOTEIP
  std::string local = "unknown";       // $TCPLOCALHOST, else $TCPLOCALIP
};
TcpPeer tcp_peer_from_env();

// The line for `peer`. `comment` follows the protocol as given (the caller
// makes it safe), e.g. qmail-smtpd's " (TLS1.3 cipher NAME)".
std::string received_line(const TcpPeer& peer, const std::optional<std::string>& helo,
                          std::string_view protocol, std::string_view comment, time_t when);

// The line of a network protocol without HELO ("QMTP", "QMQP").
std::string network_received_line(std::string_view protocol, const TcpPeer& peer, time_t when);

}  // namespace qng

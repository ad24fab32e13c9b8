// received.cc: qmail's Received line (see received.h).
#include "received.h"

#include <cstdlib>

#include "date.h"

namespace qng {

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

}  // namespace

TcpPeer tcp_peer_from_env() {
  TcpPeer p;
  if (const char* v = std::getenv("TCPREMOTEHOST")) p.remotehost = v;
  if (const char* v = std::getenv("TCPREMOTEINFO")) p.remoteinfo = v;
  if (const char* v = std::getenv("TCPREMOTEIP")) p.remoteip = v;
  if (const char* v = std::getenv("TCPLOCALHOST"))
    p.local = v;
  else if (const char* ip = std::getenv("TCPLOCALIP"))
    p.local = ip;
  return p;
}

std::string received_line(const TcpPeer& peer, const std::optional<std::string>& helo,
                          std::string_view protocol, std::string_view comment, time_t when) {
  std::string r = "Received: from ";
  r += safe(peer.remotehost);
  if (helo) {
    r += " (HELO ";
    r += safe(*helo);
    r += ")";
  }
  r += " (";
  if (peer.remoteinfo) {
    r += safe(*peer.remoteinfo);
    r += '@';
  }
  r += safe(peer.remoteip);
  r += ")\n  by ";
  r += safe(peer.local);
  r += " with ";
  r += safe(protocol);
  r += comment;
  r += "; ";
  r += date822(when);
  r += '\n';
  return r;
}

std::string network_received_line(std::string_view protocol, const TcpPeer& peer, time_t when) {
  return received_line(peer, std::nullopt, protocol, "", when);
}

}  // namespace qng

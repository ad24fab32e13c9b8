// netaddr.cc: tcpserver's addresses: what to listen on, how clients are
// named in the environment and in the log.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "size.h"
#include "tcpserver.h"

namespace qng {

namespace {

constexpr size_t kLogFieldMax = 100;

SocketAddress from_v4(const struct in_addr& ip, uint16_t port) {
  SocketAddress a;
  auto* sin = reinterpret_cast<struct sockaddr_in*>(&a.ss);
  sin->sin_family = AF_INET;
  sin->sin_addr = ip;
  sin->sin_port = htons(port);
  a.len = sizeof(struct sockaddr_in);
  return a;
}

SocketAddress from_v6(const struct in6_addr& ip, uint16_t port) {
  SocketAddress a;
  auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(&a.ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_addr = ip;
  sin6->sin6_port = htons(port);
  a.len = sizeof(struct sockaddr_in6);
  return a;
}

}  // namespace

Result<uint16_t> resolve_port(const std::string& port) {
  if (auto n = parse_decimal(port, 65535)) return static_cast<uint16_t>(*n);
  if (!port.empty() && port.find_first_not_of("0123456789") == std::string::npos)
    return Error::perm("port out of range: " + port);
  struct servent* se = ::getservbyname(port.c_str(), "tcp");
  if (!se) return Error::perm("unable to figure out port number for " + port);
  return static_cast<uint16_t>(ntohs(static_cast<uint16_t>(se->s_port)));
}

Result<SocketAddress> resolve_listen_address(const std::string& host, int family, uint16_t port) {
  if (host.empty() || host == "0") {
    if (family == AF_INET6) return from_v6(in6addr_any, port);
    struct in_addr any {};
    any.s_addr = htonl(INADDR_ANY);
    return from_v4(any, port);
  }
  struct in_addr v4;
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return from_v4(v4, port);
  std::string literal = host;
  if (literal.size() >= 2 && literal.front() == '[' && literal.back() == ']')
    literal = literal.substr(1, literal.size() - 2);
  struct in6_addr v6;
  if (::inet_pton(AF_INET6, literal.c_str(), &v6) == 1) return from_v6(v6, port);

  struct addrinfo hints {};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* res = nullptr;
  int rc = ::getaddrinfo(literal.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    if (rc == EAI_AGAIN)
      return Error::temp("temporarily unable to figure out IP address for " + host, EAGAIN);
    if (rc == EAI_SYSTEM) return Error::last("unable to figure out IP address for " + host);
    return Error::perm("no IP address for " + host);
  }
  SocketAddress a;
  bool found = false;
  for (struct addrinfo* p = res; p && !found; p = p->ai_next) {
    if (p->ai_family == AF_INET) {
      a = from_v4(reinterpret_cast<struct sockaddr_in*>(p->ai_addr)->sin_addr, port);
      found = true;
    } else if (p->ai_family == AF_INET6) {
      auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(p->ai_addr);
      a = from_v6(sin6->sin6_addr, port);
      // A scoped (link-local) literal such as fe80::1%eth0 keeps its scope.
      reinterpret_cast<struct sockaddr_in6*>(&a.ss)->sin6_scope_id = sin6->sin6_scope_id;
      found = true;
    }
  }
  ::freeaddrinfo(res);
  if (!found) return Error::perm("no IP address for " + host);
  return a;
}

void unmap_v4(SocketAddress& a, bool force_v6) {
  if (force_v6 || a.family() != AF_INET6) return;
  const auto* sin6 = reinterpret_cast<const struct sockaddr_in6*>(&a.ss);
  if (!IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) return;
  struct in_addr v4;
  std::memcpy(&v4, sin6->sin6_addr.s6_addr + 12, 4);
  a = from_v4(v4, ntohs(sin6->sin6_port));
}

std::string address_text(const SocketAddress& a) {
  char buf[INET6_ADDRSTRLEN] = "unknown";
  if (a.family() == AF_INET) {
    const auto* sin = reinterpret_cast<const struct sockaddr_in*>(&a.ss);
    ::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
  } else if (a.family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const struct sockaddr_in6*>(&a.ss);
    ::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

uint16_t address_port(const SocketAddress& a) {
  if (a.family() == AF_INET)
    return ntohs(reinterpret_cast<const struct sockaddr_in*>(&a.ss)->sin_port);
  if (a.family() == AF_INET6)
    return ntohs(reinterpret_cast<const struct sockaddr_in6*>(&a.ss)->sin6_port);
  return 0;
}

std::string safe_log_text(std::string_view s, bool keep_colons) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == kLogFieldMax) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 33 || c > 126 || c == '%' || (c == ':' && !keep_colons)) c = '?';
    out.push_back(static_cast<char>(c));
  }
  return out;
}

}  // namespace qng

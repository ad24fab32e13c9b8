// ip.cc: IP address parsing and formatting.
#include "ip.h"

#include <arpa/inet.h>

#include <cstring>

namespace qng {

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.empty() || text.size() > 63) return std::nullopt;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (::inet_pton(AF_INET, buf, ip.bytes.data()) == 1) {
    ip.family = AF_INET;
    return ip;
  }
  if (::inet_pton(AF_INET6, buf, ip.bytes.data()) == 1) {
    ip.family = AF_INET6;
    return ip;
  }
  return std::nullopt;
}

std::optional<IpAddress> parse_ip_literal(std::string_view text) {
  if (text.size() < 3 || text.front() != '[' || text.back() != ']') return std::nullopt;
  std::string_view in = text.substr(1, text.size() - 2);
  if (in.size() > 5 && (in.substr(0, 5) == "IPv6:" || in.substr(0, 5) == "ipv6:")) {
    auto ip = parse_ip(in.substr(5));
    if (!ip || ip->family != AF_INET6) return std::nullopt;
    return ip;
  }
  return parse_ip(in);
}

std::string format_ip(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (!::inet_ntop(ip.family, ip.bytes.data(), buf, sizeof buf)) return "?";
  return buf;
}

socklen_t to_sockaddr(const IpAddress& ip, uint16_t port, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (ip.family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, ip.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(&sin6->sin6_addr, ip.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

std::optional<IpAddress> from_sockaddr(const sockaddr* sa) {
  if (!sa) return std::nullopt;
  IpAddress ip;
  if (sa->sa_family == AF_INET) {
    ip.family = AF_INET;
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
    return ip;
  }
  if (sa->sa_family == AF_INET6) {
    ip.family = AF_INET6;
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
    return ip;
  }
  return std::nullopt;
}

}  // namespace qng

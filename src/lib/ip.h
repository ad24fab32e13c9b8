// ip.h: IPv4 and IPv6 addresses as bytes: parsing, formatting, sockaddr.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qng {

struct IpAddress {
  int family = AF_INET;                  // AF_INET or AF_INET6
  std::array<unsigned char, 16> bytes{};  // network order; 4 used for AF_INET

  size_t size() const { return family == AF_INET ? 4 : 16; }
  bool operator==(const IpAddress&) const = default;
};

// "192.0.2.7" or "2001:db8::1" (inet_pton's forms), nothing else.
std::optional<IpAddress> parse_ip(std::string_view text);
// An address literal: "[192.0.2.7]", "[IPv6:2001:db8::1]" (RFC 5321) or
// "[2001:db8::1]".
std::optional<IpAddress> parse_ip_literal(std::string_view text);
// inet_ntop's text: "192.0.2.7", "2001:db8::1".
std::string format_ip(const IpAddress& ip);

// Fills `out` for a connect() or bind() to ip:port; returns its length.
socklen_t to_sockaddr(const IpAddress& ip, uint16_t port, sockaddr_storage& out);
// The address of an AF_INET or AF_INET6 sockaddr; nullopt for other families.
std::optional<IpAddress> from_sockaddr(const sockaddr* sa);

}  // namespace qng

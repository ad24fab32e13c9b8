// size.h: checked size arithmetic and number parsing.
//
// qmail's CVE-2005-1513: int lengths plus "no process gets 4 GB" became remote
// code execution on 64-bit. Every size computation here reports overflow as
// an empty optional, never wraps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace qng {

[[nodiscard]] constexpr std::optional<size_t> checked_add(size_t a, size_t b) {
  size_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

[[nodiscard]] constexpr std::optional<size_t> checked_mul(size_t a, size_t b) {
  size_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// True when `used + n` stays within `cap`, computed without overflow.
[[nodiscard]] constexpr bool fits(size_t used, size_t n, size_t cap) {
  return used <= cap && n <= cap - used;
}

// Parses a decimal number of digits only, no sign, no spaces; empty input,
// any other byte or a value above `max` yields nullopt.
[[nodiscard]] constexpr std::optional<uint64_t> parse_decimal(
    std::string_view s, uint64_t max = UINT64_MAX) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > max / 10) return std::nullopt;
    v *= 10;
    if (digit > max - v) return std::nullopt;
    v += digit;
  }
  return v;
}

}  // namespace qng

// tai64n.cc: TAI64N stamps.
#include "tai64n.h"

#include <cstdint>

namespace qng {

namespace {

void put_hex(std::string& out, uint64_t v, int digits) {
  static const char kHex[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out.push_back(kHex[(v >> shift) & 15]);
}

}  // namespace

std::string tai64n(const struct timespec& ts) {
  uint64_t label = (uint64_t{1} << 62) + 10 + static_cast<uint64_t>(ts.tv_sec);
  std::string s = "@";
  s.reserve(25);
  put_hex(s, label, 16);
  put_hex(s, static_cast<uint64_t>(ts.tv_nsec), 8);
  return s;
}

std::string tai64n_now() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return tai64n(ts);
}

}  // namespace qng

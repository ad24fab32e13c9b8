// retry.cc: the quadratic retry schedule.
#include "retry.h"

#include <limits>

namespace qng::send {

uint64_t isqrt(uint64_t x) {
  // Bit by bit, as qmail's squareroot() but for 64 bits: result^2 <= x.
  uint64_t r = 0;
  for (int bit = 31; bit >= 0; --bit) {
    uint64_t t = r | (uint64_t{1} << bit);
    if (t <= x / t) r = t;
  }
  return r;
}

time_t next_retry(time_t birth, time_t now, Channel c) {
  uint64_t n = 0;
  if (birth <= now) n = isqrt(static_cast<uint64_t>(now) - static_cast<uint64_t>(birth));
  n += static_cast<uint64_t>(kChanSkip[c]);
  constexpr time_t kMax = std::numeric_limits<time_t>::max();
  uint64_t sq = 0;
  time_t next = 0;
  if (__builtin_mul_overflow(n, n, &sq) || sq > static_cast<uint64_t>(kMax) ||
      __builtin_add_overflow(birth, static_cast<time_t>(sq), &next))
    return kMax;
  return next;
}

}  // namespace qng::send

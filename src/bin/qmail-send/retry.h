// retry.h: qmail-send's retry schedule.
#pragma once

#include <cstdint>
#include <ctime>

#include "channel.h"

namespace qng::send {

// floor(sqrt(x)), exact for every 64-bit x.
uint64_t isqrt(uint64_t x);

// The next attempt after a pass that started at `now` on a message born at
// `birth` (the mtime of info/S/N):
//   next = birth + (floor(sqrt(now - birth)) + C)^2,  C = 10 local, 20 remote
// (a birth in the future counts as age 0). Attempts thus come at about
// birth + (C k)^2. Saturates instead of overflowing.
time_t next_retry(time_t birth, time_t now, Channel c);

}  // namespace qng::send

// tai64n.h: TAI64N time stamps as multilog writes them.
//
// "@" then 24 lower-case hex digits: 16 for the TAI64 label 2^62 + 10 +
// unix seconds (TAI is 10 s ahead of UTC at the 1970 epoch; leap seconds
// since are ignored, as daemontools does), 8 for the nanoseconds.
#pragma once

#include <time.h>

#include <string>

namespace qng {

// "@400000006..." (25 bytes).
std::string tai64n(const struct timespec& ts);
// The same for now (CLOCK_REALTIME).
std::string tai64n_now();

}  // namespace qng

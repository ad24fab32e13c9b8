// date.h: the date formats mail needs.
#pragma once

#include <ctime>
#include <string>

namespace qng {

// qmail's date822fmt, in GMT: "3 Mar 2024 09:05:01 -0000" (day not padded).
// Valid RFC 5322 date-time (day-of-week is optional).
std::string date822(time_t t);
// RFC 5322 with day of week and the local zone offset, as Postfix writes:
// "Sun, 03 Mar 2024 10:05:01 +0100".
std::string date5322_local(time_t t);
// 24-character ctime in GMT for mbox From_ lines: "Sun Mar  3 09:05:01 2024"
// with qmail's zero padding of the day: "Sun Mar 03 09:05:01 2024".
std::string ctime_gmt(time_t t);

}  // namespace qng

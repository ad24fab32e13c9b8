// date.cc: date822fmt (qmail), RFC 5322 local dates, and myctime (qmail).
#include "date.h"

#include <cstdio>
#include <cstdlib>

namespace qng {
namespace {

constexpr const char* kDays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Broken-down GMT time; a time gmtime cannot represent shows as the epoch
// rather than as garbage (time(nullptr) never gets there).
struct tm gmt(time_t t) {
  struct tm tm {};
  if (!::gmtime_r(&t, &tm)) {
    time_t zero = 0;
    ::gmtime_r(&zero, &tm);
  }
  return tm;
}

long long year_of(const struct tm& tm) { return static_cast<long long>(tm.tm_year) + 1900; }

}  // namespace

std::string date822(time_t t) {
  struct tm tm = gmt(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d %s %lld %02d:%02d:%02d -0000", tm.tm_mday,
                kMonths[tm.tm_mon], year_of(tm), tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string date5322_local(time_t t) {
  struct tm tm {};
  if (!::localtime_r(&t, &tm)) return date822(t);
  long off = tm.tm_gmtoff / 60;  // minutes east of GMT; seconds dropped
  char sign = off < 0 ? '-' : '+';
  off = std::labs(off);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %lld %02d:%02d:%02d %c%02ld%02ld",
                kDays[tm.tm_wday], tm.tm_mday, kMonths[tm.tm_mon], year_of(tm), tm.tm_hour,
                tm.tm_min, tm.tm_sec, sign, off / 60 % 100, off % 60);
  return buf;
}

std::string ctime_gmt(time_t t) {
  struct tm tm = gmt(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s %s %02d %02d:%02d:%02d %lld", kDays[tm.tm_wday],
                kMonths[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, year_of(tm));
  return buf;
}

}  // namespace qng

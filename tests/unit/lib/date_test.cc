// date_test.cc: date822, date5322_local and ctime_gmt at fixed times.
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "date.h"

namespace qng {
namespace {

TEST(Date, Date822IsQmailsGmtFormat) {
  struct Case { time_t t; const char* want; };
  const Case cases[] = {
      {1709456701, "3 Mar 2024 09:05:01 -0000"},  // day not padded
      {0, "1 Jan 1970 00:00:00 -0000"},
      {1000000000, "9 Sep 2001 01:46:40 -0000"},
      {1709164800, "29 Feb 2024 00:00:00 -0000"},
      {951782400, "29 Feb 2000 00:00:00 -0000"},
      {1720000000, "3 Jul 2024 09:46:40 -0000"},
      {4102444799, "31 Dec 2099 23:59:59 -0000"},
  };
  for (const auto& c : cases) EXPECT_EQ(date822(c.t), c.want) << c.t;
}

TEST(Date, CtimeGmtPadsTheDayAsMyctime) {
  struct Case { time_t t; const char* want; };
  const Case cases[] = {
      {1709456701, "Sun Mar 03 09:05:01 2024"},
      {0, "Thu Jan 01 00:00:00 1970"},
      {1000000000, "Sun Sep 09 01:46:40 2001"},
      {1709164800, "Thu Feb 29 00:00:00 2024"},
      {1720000000, "Wed Jul 03 09:46:40 2024"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ctime_gmt(c.t), c.want) << c.t;
    EXPECT_EQ(ctime_gmt(c.t).size(), 24u) << c.t;
  }
}

// Sets TZ for one test and puts the old value back.
class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~ScopedTz() {
    if (old_)
      ::setenv("TZ", old_->c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }

 private:
  std::optional<std::string> old_;
};

TEST(Date, Date5322LocalUsesTheZoneOffset) {
  // POSIX TZ strings: no dependence on the tzdata installed.
  struct Case { const char* tz; time_t t; const char* want; };
  const Case cases[] = {
      {"UTC0", 1709456701, "Sun, 03 Mar 2024 09:05:01 +0000"},
      {"CET-1CEST,M3.5.0,M10.5.0/3", 1709456701, "Sun, 03 Mar 2024 10:05:01 +0100"},
      {"CET-1CEST,M3.5.0,M10.5.0/3", 1720000000, "Wed, 03 Jul 2024 11:46:40 +0200"},
      {"CET-1CEST,M3.5.0,M10.5.0/3", 0, "Thu, 01 Jan 1970 01:00:00 +0100"},
      {"EST5EDT,M3.2.0,M11.1.0", 1709456701, "Sun, 03 Mar 2024 04:05:01 -0500"},
      {"EST5EDT,M3.2.0,M11.1.0", 1720000000, "Wed, 03 Jul 2024 05:46:40 -0400"},
      {"EST5EDT,M3.2.0,M11.1.0", 1709164800, "Wed, 28 Feb 2024 19:00:00 -0500"},
      {"IST-5:30", 1709456701, "Sun, 03 Mar 2024 14:35:01 +0530"},
      {"<-0330>3:30", 1709456701, "Sun, 03 Mar 2024 05:35:01 -0330"},
  };
  for (const auto& c : cases) {
    ScopedTz tz(c.tz);
    EXPECT_EQ(date5322_local(c.t), c.want) << c.tz << " " << c.t;
  }
}

TEST(Date, GmtFormatsIgnoreTheZone) {
  ScopedTz tz("EST5EDT,M3.2.0,M11.1.0");
  EXPECT_EQ(date822(1709456701), "3 Mar 2024 09:05:01 -0000");
  EXPECT_EQ(ctime_gmt(1709456701), "Sun Mar 03 09:05:01 2024");
}

}  // namespace
}  // namespace qng

// logger_test.cc: qmail-logger's TAI64N stamps, line cutting and pruning.
#include <time.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../../src/bin/qmail-logger/logger.h"
#include "../../../src/bin/qmail-logger/tai64n.h"

namespace qng {
namespace {

TEST(LoggerTai64n, Format) {
  struct Case {
    time_t sec;
    long nsec;
    const char* want;
  };
  const Case cases[] = {
      {0, 0, "@400000000000000a00000000"},
      {1, 1, "@400000000000000b00000001"},
      {1709476800, 0, "@4000000065e48bca00000000"},  // 2024-03-03 14:40:00 UTC
      {1709476800, 999999999, "@4000000065e48bca3b9ac9ff"},
      {0x7fffffff, 500000000, "@40000000800000091dcd6500"},
  };
  for (const auto& c : cases) {
    struct timespec ts {c.sec, c.nsec};
    EXPECT_EQ(tai64n(ts), c.want) << c.sec << "." << c.nsec;
  }
}

TEST(LoggerTai64n, NowIsWellFormed) {
  std::string s = tai64n_now();
  ASSERT_EQ(s.size(), 25u);
  EXPECT_EQ(s.substr(0, 9), "@40000000");
  for (char c : s.substr(1)) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << s;
}

TEST(LoggerLineStamper, Table) {
  struct Case {
    std::vector<std::string> chunks;  // each fed with stamp "@N" (N = index)
    bool finish;
    const char* want;
  };
  const Case cases[] = {
      {{"a\n"}, false, "@0 a\n"},
      {{"a\nb\n"}, false, "@0 a\n@0 b\n"},
      {{"a"}, false, ""},
      {{"a"}, true, "@0 a\n"},
      {{"ab", "c\nd"}, true, "@0 abc\n@1 d\n"},  // stamped when the line began
      {{"\n"}, false, "@0 \n"},
      {{"", "x\n"}, false, "@1 x\n"},
      {{"12345678"}, false, ""},  // max 8: cut only when a 9th byte comes
      {{"12345678"}, true, "@0 12345678\n"},
      {{"12345678", "\n"}, false, "@0 12345678\n"},
      {{"123456789\n"}, false, "@0 12345678\n@0 9\n"},
      {{"12345678\n"}, false, "@0 12345678\n"},
      {{"1234", "5678", "9"}, true, "@0 12345678\n@2 9\n"},
      {{}, true, ""},
  };
  for (const auto& c : cases) {
    LineStamper s(8);
    std::string got;
    for (size_t i = 0; i < c.chunks.size(); ++i) s.feed(c.chunks[i], "@" + std::to_string(i), got);
    if (c.finish) s.finish(got);
    EXPECT_EQ(got, c.want) << (c.chunks.empty() ? "" : c.chunks[0]);
  }
}

TEST(LoggerLineStamper, DefaultCapIs8KiB) {
  LineStamper s;
  std::string got;
  s.feed(std::string(kLogLineMax + 3, 'x') + "\n", "@", got);
  EXPECT_EQ(got, "@ " + std::string(kLogLineMax, 'x') + "\n@ xxx\n");
}

TEST(LoggerLogPrune, KeepsNewest) {
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) names.push_back("@40000000000000" + std::to_string(10 + i) + "00000000.s");
  auto gone = files_to_prune(names, 10);
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_EQ(gone[0], names[0]);
  EXPECT_EQ(gone[1], names[1]);
  EXPECT_TRUE(files_to_prune(std::vector<std::string>(names.begin(), names.begin() + 10), 10).empty());
}

}  // namespace
}  // namespace qng

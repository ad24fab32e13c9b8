// command_test.cc: POP3 command lines split as qmail's commands(), numbers
// scanned as qmail's scan_ulong.
#include <string>

#include <gtest/gtest.h>

#include "command.h"

namespace qng::pop3 {
namespace {

using namespace std::string_literals;

TEST(Pop3Command, Split) {
  struct Case {
    std::string line, verb, arg;
  };
  const Case cases[] = {
      {"STAT\r\n", "STAT", ""},
      {"stat\n", "stat", ""},
      {"LIST 2\r\n", "LIST", "2"},
      {"TOP 1   10\r\n", "TOP", "1   10"},
      {"PASS   with spaces  \r\n", "PASS", "with spaces  "},
      {"USER x\r\r\n", "USER", "x\r"},  // one CR goes, as qmail
      {"USER a\0b\r\n"s, "USER", "a"},  // a NUL ends the line
      {"\r\n", "", ""},
      {" NOOP\r\n", "", "NOOP"},
  };
  for (const auto& c : cases) {
    Command got = split_command(c.line);
    EXPECT_EQ(got.verb, c.verb) << c.line;
    EXPECT_EQ(got.arg, c.arg) << c.line;
  }
}

TEST(Pop3Command, ScanNumber) {
  struct Case {
    const char* in;
    size_t digits;
    uint64_t value;
  };
  const Case cases[] = {
      {"", 0, 0},
      {"x", 0, 0},
      {"0", 1, 0},
      {"12", 2, 12},
      {"12 5", 2, 12},
      {"7x", 1, 7},
      {"-1", 0, 0},
      {"18446744073709551615", 20, UINT64_MAX},
      {"18446744073709551616", 20, UINT64_MAX},  // saturates
      {"999999999999999999999999", 24, UINT64_MAX},
  };
  for (const auto& c : cases) {
    Number n = scan_number(c.in);
    EXPECT_EQ(n.digits, c.digits) << c.in;
    EXPECT_EQ(n.value, c.value) << c.in;
  }
}

}  // namespace
}  // namespace qng::pop3

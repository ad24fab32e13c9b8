// netstring_test.cc: building and parsing netstrings, from memory and streams.
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "fd.h"
#include "io.h"
#include "netstring.h"

namespace qng {
namespace {

TEST(Netstring, Build) {
  EXPECT_EQ(netstring(""), "0:,");
  EXPECT_EQ(netstring("hello world!"), "12:hello world!,");
  EXPECT_EQ(netstring(std::string("a\0b", 3)), std::string("3:a\0b,", 6));
  std::string out = "x";
  append_netstring(out, "ab");
  append_netstring(out, "");
  EXPECT_EQ(out, "x2:ab,0:,");
  EXPECT_EQ(netstring(std::string(1000, 'z')).substr(0, 5), "1000:");
}

struct Case {
  const char* name;
  std::string in;
  size_t max;
  std::optional<std::string> want;  // nullopt: an error
  int err;                          // expected errno when an error
  std::string rest;                 // what stays in the input on success
};

const Case kCases[] = {
    {"empty string", "0:,", 100, "", 0, ""},
    {"simple", "5:hello,", 100, "hello", 0, ""},
    {"rest kept", "1:a,2:bc,", 100, "a", 0, "2:bc,"},
    {"binary", std::string("3:\0:,,", 6), 100, std::string("\0:,", 3), 0, ""},
    {"exactly max", "3:abc,", 3, "abc", 0, ""},
    {"max zero", "0:,", 0, "", 0, ""},
    {"over max zero", "1:a,", 0, std::nullopt, E2BIG, ""},
    {"over max by digit", "9:abcdefghi,", 8, std::nullopt, E2BIG, ""},
    {"two digits over", "10:abcdefghij,", 9, std::nullopt, E2BIG, ""},
    {"over max", "4:abcd,", 3, std::nullopt, E2BIG, ""},
    {"huge length", "99999999999999999999999999:x,", SIZE_MAX, std::nullopt, E2BIG, ""},
    {"size_max+1", "18446744073709551616:", SIZE_MAX, std::nullopt, E2BIG, ""},
    {"leading zero", "01:a,", 100, std::nullopt, EPROTO, ""},
    {"zeros", "00:,", 100, std::nullopt, EPROTO, ""},
    {"missing comma", "1:ab", 100, std::nullopt, EPROTO, ""},
    {"wrong terminator", "1:a;", 100, std::nullopt, EPROTO, ""},
    {"truncated data", "5:hel", 100, std::nullopt, EPROTO, ""},
    {"truncated before comma", "5:hello", 100, std::nullopt, EPROTO, ""},
    {"truncated length", "12", 100, std::nullopt, EPROTO, ""},
    {"no colon", "3;abc,", 100, std::nullopt, EPROTO, ""},
    {"no length", ":abc,", 100, std::nullopt, EPROTO, ""},
    {"sign", "+3:abc,", 100, std::nullopt, EPROTO, ""},
    {"space", " 3:abc,", 100, std::nullopt, EPROTO, ""},
    {"empty input", "", 100, std::nullopt, EPROTO, ""},
};

TEST(Netstring, Parse) {
  for (const auto& c : kCases) {
    std::string_view in = c.in;
    auto r = parse_netstring(in, c.max);
    if (c.want) {
      ASSERT_TRUE(r) << c.name << ": " << r.error().message();
      EXPECT_EQ(*r, *c.want) << c.name;
      EXPECT_EQ(in, c.rest) << c.name;
    } else {
      ASSERT_FALSE(r) << c.name;
      EXPECT_EQ(r.error().code(), c.err) << c.name;
      EXPECT_TRUE(r.error().permanent()) << c.name;
      EXPECT_EQ(in, c.in) << c.name << ": input consumed on error";
    }
  }
}

// Feeds `data` through an unlinked temporary file into a Reader.
class PipeReader {
 public:
  explicit PipeReader(const std::string& data) {
    char name[] = "/tmp/nstest.XXXXXX";
    r_.reset(::mkstemp(name));
    EXPECT_TRUE(r_.valid());
    ::unlink(name);
    EXPECT_TRUE(write_all(r_.get(), data));
    EXPECT_EQ(::lseek(r_.get(), 0, SEEK_SET), 0);
    reader_ = std::make_unique<Reader>(r_.get(), 5000);
  }
  Reader& get() { return *reader_; }

 private:
  Fd r_;
  std::unique_ptr<Reader> reader_;
};

TEST(Netstring, ReadFromStream) {
  for (const auto& c : kCases) {
    if (c.in.empty()) continue;  // end of input is EPIPE, tested below
    PipeReader p(c.in);
    auto r = read_netstring(p.get(), c.max);
    if (c.want) {
      ASSERT_TRUE(r) << c.name << ": " << r.error().message();
      EXPECT_EQ(*r, *c.want) << c.name;
    } else {
      ASSERT_FALSE(r) << c.name;
      EXPECT_EQ(r.error().code(), c.err) << c.name;
      EXPECT_TRUE(r.error().permanent()) << c.name;
    }
  }
}

TEST(Netstring, StreamSequenceAndEnd) {
  PipeReader p("3:abc,0:,1:x,");
  EXPECT_EQ(read_netstring(p.get(), 10).value(), "abc");
  EXPECT_EQ(read_netstring(p.get(), 10).value(), "");
  EXPECT_EQ(read_netstring(p.get(), 10).value(), "x");
  auto end = read_netstring(p.get(), 10);
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code(), EPIPE);
}

TEST(Netstring, StreamLargeAndLyingLength) {
  std::string big(200000, 'q');
  PipeReader p(netstring(big));
  auto r = read_netstring(p.get(), 1000000);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, big);
  // A length far beyond the data: a truncation error, not a huge allocation.
  PipeReader lie("900000000000:short,");
  auto l = read_netstring(lie.get(), SIZE_MAX);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code(), EPROTO);
}

}  // namespace
}  // namespace qng

// control_test.cc: qmail's control file semantics on real files.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "control.h"

namespace qng {
namespace {

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "qng-control-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void put(const std::string& name, const std::string& data) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << data;
  }
  Control control() const { return Control(dir_); }

  std::string dir_;
};

TEST_F(ControlTest, LineIsTheFirstLineStripped) {
  struct Case { std::string data; std::string want; };
  const Case cases[] = {
      {"example.org\n", "example.org"},
      {"example.org  \t\r\nsecond line\n", "example.org"},
      {"no newline", "no newline"},
      {"  leading kept\n", "  leading kept"},
      {"", ""},
      {"\nsecond\n", ""},
      {"   \n", ""},
      {"a b c \n", "a b c"},
  };
  for (const auto& c : cases) {
    put("x", c.data);
    auto got = control().line("x");
    ASSERT_TRUE(got) << got.error().message();
    ASSERT_TRUE(*got) << c.data;
    EXPECT_EQ(**got, c.want) << c.data;
  }
  auto missing = control().line("missing");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_F(ControlTest, LineOrIsControlRldef) {
  put("bouncehost", "bounce.example\n");
  auto c = control();
  struct Case { const char* name; bool use_me; const char* want; };
  // Without control/me.
  const Case no_me[] = {
      {"bouncehost", true, "bounce.example"},
      {"bouncehost", false, "bounce.example"},
      {"doublebouncehost", true, "literal"},
      {"doublebouncehost", false, "literal"},
  };
  for (const auto& k : no_me) {
    auto got = c.line_or(k.name, k.use_me, "literal");
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, k.want) << k.name << " " << k.use_me;
  }
  put("me", "me.example \n");
  const Case with_me[] = {
      {"bouncehost", true, "bounce.example"},
      {"doublebouncehost", true, "me.example"},
      {"doublebouncehost", false, "literal"},
  };
  for (const auto& k : with_me) {
    auto got = c.line_or(k.name, k.use_me, "literal");
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, k.want) << k.name << " " << k.use_me;
  }
  // An existing but empty file is a value, as in qmail.
  put("idhost", "");
  auto got = c.line_or("idhost", true, "literal");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "");
}

TEST_F(ControlTest, LinesSkipCommentsAndBlanks) {
  struct Case { std::string data; std::vector<std::string> want; };
  const Case cases[] = {
      {"a\nb\n", {"a", "b"}},
      {"# comment\n\na\n  \nb \t\r\n#c\nlast", {"a", "b", "last"}},
      {" #not a comment\n", {" #not a comment"}},
      {"", {}},
      {"\n\n\n", {}},
      {".example.org\nexample.org\n", {".example.org", "example.org"}},
  };
  for (const auto& c : cases) {
    put("rcpthosts", c.data);
    auto got = control().lines("rcpthosts");
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(*got, c.want) << c.data;
  }
  auto missing = control().lines("missing");
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->empty());
}

TEST_F(ControlTest, NumbersFallBackWhenMissingOrNotNumeric) {
  struct Case { std::optional<std::string> data; uint64_t want; };
  const Case cases[] = {
      {std::nullopt, 77},
      {"25\n", 25},
      {"0\n", 0},
      {"1200 \r\n", 1200},
      {"12abc\n", 12},  // scan_ulong: leading digits count
      {"abc\n", 77},
      {"\n", 77},
      {"", 77},
      {"-5\n", 77},
      {" 7\n", 77},
      {"18446744073709551615\n", UINT64_MAX},
      {"18446744073709551616\n", 77},
  };
  for (const auto& c : cases) {
    ::unlink((dir_ + "/n").c_str());
    if (c.data) put("n", *c.data);
    auto got = control().number("n", 77);
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(*got, c.want) << c.data.value_or("(missing)");
  }
}

TEST_F(ControlTest, ExistsAndUnreadableIsAnError) {
  put("rcpthosts", "");
  auto c = control();
  auto yes = c.exists("rcpthosts");
  ASSERT_TRUE(yes);
  EXPECT_TRUE(*yes);
  auto no = c.exists("morercpthosts");
  ASSERT_TRUE(no);
  EXPECT_FALSE(*no);

  // A "control directory" that is a regular file: ENOTDIR, not "missing".
  Control broken(dir_ + "/rcpthosts");
  auto e = broken.exists("x");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), ENOTDIR);
  auto l = broken.line("x");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code(), ENOTDIR);
  auto n = broken.number("x", 5);
  ASSERT_FALSE(n);
  auto ls = broken.lines("x");
  ASSERT_FALSE(ls);
  auto d = broken.line_or("x", true, "literal");
  ASSERT_FALSE(d);

  // A directory where a file should be cannot be read.
  ASSERT_EQ(::mkdir((dir_ + "/me").c_str(), 0700), 0);
  auto me = c.line("me");
  ASSERT_FALSE(me);
  EXPECT_EQ(me.error().code(), EISDIR);
  auto def = c.line_or("helohost", true, "x");
  ASSERT_FALSE(def);  // control/me unreadable: not silently the literal
}

TEST_F(ControlTest, SizeCap) {
  const size_t mib = size_t{1} << 20;
  put("big", std::string(mib, 'a'));
  auto c = control();
  auto ok = c.line("big");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ((*ok)->size(), mib);

  put("big", "first\n" + std::string(mib, 'a'));
  auto line = c.line("big");
  ASSERT_FALSE(line);
  EXPECT_EQ(line.error().code(), E2BIG);
  auto lines = c.lines("big");
  ASSERT_FALSE(lines);
  EXPECT_EQ(lines.error().code(), E2BIG);
  auto num = c.number("big", 1);
  ASSERT_FALSE(num);
  EXPECT_EQ(num.error().code(), E2BIG);

  auto whole = c.contents("big", 2 * mib);
  ASSERT_TRUE(whole);
  ASSERT_TRUE(*whole);
  EXPECT_EQ((*whole)->size(), mib + 6);
  auto capped = c.contents("big", 10);
  ASSERT_FALSE(capped);
  EXPECT_EQ(capped.error().code(), E2BIG);
  auto missing = c.contents("nothing");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST(Control, StripTrailingSpace) {
  struct Case { std::string in, want; };
  const Case cases[] = {
      {"a \t\r\n", "a"}, {"a", "a"},          {"", ""},
      {" \t", ""},        {" a b ", " a b"}, {"a\r\nb\n", "a\r\nb"},
  };
  for (const auto& c : cases) EXPECT_EQ(strip_trailing_space(c.in), c.want) << c.in;
}

TEST(Control, Path) {
  Control c("/var/qmail/control");
  EXPECT_EQ(c.dir(), "/var/qmail/control");
  EXPECT_EQ(c.path("me"), "/var/qmail/control/me");
}

}  // namespace
}  // namespace qng

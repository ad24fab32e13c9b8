// mbox_test.cc: From_ lines and mboxrd quoting (src/lib/mbox.h), used by
// qmail-local's mbox deliveries and maildir2mbox.
#include <gtest/gtest.h>

#include <string>

#include "mbox.h"

namespace qng {
namespace {

std::string quote_whole(std::string_view in) {
  MboxQuoter q;
  std::string out;
  q.feed(in, out);
  q.finish(out);
  return out;
}

std::string quote_bytewise(std::string_view in) {
  MboxQuoter q;
  std::string out;
  for (char c : in) q.feed(std::string_view(&c, 1), out);
  q.finish(out);
  return out;
}

TEST(Mbox, Quoting) {
  struct Case {
    const char* in;
    const char* want;
  };
  const Case cases[] = {
      {"", ""},
      {"a\n", "a\n"},
      {"no newline", "no newline\n"},
      {"From x\n", ">From x\n"},
      {">From x\n", ">>From x\n"},
      {">>>From x\n", ">>>>From x\n"},
      {"From\n", "From\n"},                    // no space: not a From_ line
      {"Fromx\n", "Fromx\n"},
      {" From x\n", " From x\n"},
      {"x From y\n", "x From y\n"},
      {">Fro", ">Fro\n"},                      // partial prefix at the end
      {">>", ">>\n"},
      {"a\nFrom b\nFrom c", "a\n>From b\n>From c\n"},
      {"From ", ">From \n"},
      {"\n\nFrom \n", "\n\n>From \n"},
      {"Fr\nFrom x\n", "Fr\n>From x\n"},
      {"FFrom x\n", "FFrom x\n"},
      {">F>From x\n", ">F>From x\n"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(quote_whole(c.in), c.want) << c.in;
    EXPECT_EQ(quote_bytewise(c.in), c.want) << c.in;
  }
}

TEST(Mbox, NeedsQuote) {
  EXPECT_TRUE(mbox_needs_quote("From x"));
  EXPECT_TRUE(mbox_needs_quote(">>From "));
  EXPECT_FALSE(mbox_needs_quote(">>From"));
  EXPECT_FALSE(mbox_needs_quote(" From x"));
  EXPECT_FALSE(mbox_needs_quote(""));
}

TEST(Mbox, FromLine) {
  const time_t t = 1709456701;  // Sun Mar  3 09:05:01 2024 UTC
  EXPECT_EQ(mbox_from_line("a@b", t), "From a@b Sun Mar 03 09:05:01 2024\n");
  EXPECT_EQ(mbox_from_line("", t), "From MAILER-DAEMON Sun Mar 03 09:05:01 2024\n");
  EXPECT_EQ(mbox_from_line("a b\tc\nd@e", t), "From a-b-c-d@e Sun Mar 03 09:05:01 2024\n");
}

}  // namespace
}  // namespace qng

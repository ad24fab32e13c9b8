// blast_test.cc: messages as qmail-pop3d sends them: CRLF, dot-stuffing, the
// extra empty line before ".", TOP's line limit; the same bytes however the
// message is cut into chunks.
#include <string>

#include <gtest/gtest.h>

#include "blast.h"

namespace qng::pop3 {
namespace {

std::string blast(const std::string& msg, uint64_t limit, size_t chunk) {
  Blaster b(limit);
  std::string out;
  for (size_t i = 0; i < msg.size(); i += chunk)
    if (!b.feed(std::string_view(msg).substr(i, chunk), out)) break;
  b.finish(out);
  return out;
}

TEST(Pop3Blast, Table) {
  struct Case {
    std::string msg;
    uint64_t limit;
    std::string want;
  };
  const std::string m = "H: 1\nH: 2\n\nb1\n.b2\n\nb4\n";
  const Case cases[] = {
      {"", 0, "\r\n.\r\n"},
      {"a\n", 0, "a\r\n\r\n.\r\n"},
      {"a", 0, "a\r\n\r\n.\r\n"},  // no final LF: the line is ended anyway
      {"a\nb", 0, "a\r\nb\r\n\r\n.\r\n"},
      {".\n", 0, "..\r\n\r\n.\r\n"},
      {"..x\n.\n", 0, "...x\r\n..\r\n\r\n.\r\n"},
      {"x.\n.y\n", 0, "x.\r\n..y\r\n\r\n.\r\n"},
      {"a\r\n", 0, "a\r\r\n\r\n.\r\n"},  // a stored CR stays
      {"\n\n", 0, "\r\n\r\n\r\n.\r\n"},
      {m, 0, "H: 1\r\nH: 2\r\n\r\nb1\r\n..b2\r\n\r\nb4\r\n\r\n.\r\n"},
      // TOP n k: limit k + 1.
      {m, 1, "H: 1\r\nH: 2\r\n\r\n\r\n.\r\n"},
      {m, 2, "H: 1\r\nH: 2\r\n\r\nb1\r\n\r\n.\r\n"},
      {m, 3, "H: 1\r\nH: 2\r\n\r\nb1\r\n..b2\r\n\r\n.\r\n"},
      {m, 4, "H: 1\r\nH: 2\r\n\r\nb1\r\n..b2\r\n\r\n\r\n.\r\n"},  // empty body lines count
      {m, 99, "H: 1\r\nH: 2\r\n\r\nb1\r\n..b2\r\n\r\nb4\r\n\r\n.\r\n"},
      {"H: 1\nno body", 1, "H: 1\r\nno body\r\n\r\n.\r\n"},  // all header
  };
  for (const auto& c : cases) {
    for (size_t chunk : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{4096}}) {
      EXPECT_EQ(blast(c.msg, c.limit, chunk), c.want)
          << "msg=" << c.msg << " limit=" << c.limit << " chunk=" << chunk;
    }
  }
}

TEST(Pop3Blast, StopsReadingAtTheLimit) {
  Blaster b(2);
  std::string out;
  EXPECT_TRUE(b.feed("H: x\n\nline\n", out));
  EXPECT_FALSE(b.feed("more\n", out));
  EXPECT_FALSE(b.feed("ignored\n", out));
  b.finish(out);
  EXPECT_EQ(out, "H: x\r\n\r\nline\r\n\r\n.\r\n");
}

}  // namespace
}  // namespace qng::pop3

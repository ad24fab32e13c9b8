// body_test.cc: qmail-remote's DATA encoding: CRLF, dot-stuffing after
// every emitted line break (bare CR included), the partial last line.
#include <string>

#include <gtest/gtest.h>

#include "body.h"

namespace qng::remote {
namespace {

using namespace std::string_literals;

TEST(Body, Encoding) {
  struct Case {
    std::string in;
    std::string want;
  };
  const Case cases[] = {
      {"", ".\r\n"},
      {"a\n", "a\r\n.\r\n"},
      {"a\nb\n", "a\r\nb\r\n.\r\n"},
      {".\n", "..\r\n.\r\n"},
      {"..x\n", "...x\r\n.\r\n"},
      {"a\n.\nb\n", "a\r\n..\r\nb\r\n.\r\n"},
      {"x.y\n", "x.y\r\n.\r\n"},             // a dot inside a line stays
      {"\n\n", "\r\n\r\n.\r\n"},
      {"a\r\nb\r\n", "a\r\nb\r\n.\r\n"},     // stored CRLF: one break each
      {"a\r\n.b\r\n", "a\r\n..b\r\n.\r\n"},
      // A bare CR is a line break, and the dot after it is stuffed: stored
      // "x\r.\n" must not become "x\r\n.\r\n" (an early end of DATA).
      {"x\r.\n", "x\r\n..\r\n.\r\n"},
      {"x\r\r\n", "x\r\n\r\n.\r\n"},
      {"\r", "\r\n.\r\n"},
      {"a\r", "a\r\n.\r\n"},
      {"\r.", "\r\n..\r\n.\r\n"},
      // The last line without LF gets CRLF (qmail refused with #5.6.2).
      {"last", "last\r\n.\r\n"},
      {"a\nlast", "a\r\nlast\r\n.\r\n"},
      {"a\n.", "a\r\n..\r\n.\r\n"},
      {"8bit \xc3\xa9\n", "8bit \xc3\xa9\r\n.\r\n"},
      {"nul \0 byte\n"s, "nul \0 byte\r\n.\r\n"s},
  };
  for (const Case& c : cases) EXPECT_EQ(encode_body(c.in), c.want) << "input: " << c.in;
}

TEST(Body, PiecesMatchWhole) {
  // Fed in pieces split everywhere, the result is the same.
  const std::string msg = "a\r\n.b\rc\r\r\n..\nd\r.e\nlast.";
  const std::string want = encode_body(msg);
  for (size_t split = 0; split <= msg.size(); ++split) {
    BodyEncoder e;
    std::string out;
    e.feed(std::string_view(msg).substr(0, split), out);
    e.feed(std::string_view(msg).substr(split), out);
    e.finish(out);
    EXPECT_EQ(out, want) << "split at " << split;
  }
  // Byte by byte.
  BodyEncoder e;
  std::string out;
  for (char c : msg) e.feed(std::string_view(&c, 1), out);
  e.finish(out);
  EXPECT_EQ(out, want);
}

TEST(Body, OutputHasOnlyCrlfBreaks) {
  const std::string msg = "a\rb\nc\r\nd\r\re\n\rf";
  std::string out = encode_body(msg);
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\r') {
      ASSERT_LT(i + 1, out.size());
      EXPECT_EQ(out[i + 1], '\n') << "bare CR at " << i;
    }
    if (out[i] == '\n') {
      ASSERT_GT(i, 0u);
      EXPECT_EQ(out[i - 1], '\r') << "bare LF at " << i;
    }
  }
}

TEST(Body, EightBit) {
  EXPECT_FALSE(has_8bit(""));
  EXPECT_FALSE(has_8bit("plain ascii\r\n\x7f"));
  EXPECT_TRUE(has_8bit("caf\xc3\xa9"));
  EXPECT_TRUE(has_8bit("\x80"));
}

}  // namespace
}  // namespace qng::remote

// data_test.cc: qmail-smtpd's DATA reader: end of data, dot-unstuffing,
// CRLF -> LF, bare CR/LF (SMTP smuggling), NUL, databytes, hop count.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../../../src/bin/qmail-smtpd/data.h"

namespace qng::smtpd {
namespace {

using V = DataReader::Verdict;

struct Result {
  bool done;
  size_t consumed;
  std::string stored;
  V verdict;
};

// Feeds the input in pieces of `chunk` bytes (0: all at once).
Result run(const std::string& in, uint64_t databytes = 0, size_t chunk = 0) {
  DataReader r(databytes);
  std::string out;
  size_t pos = 0;
  while (pos < in.size() && !r.done()) {
    size_t n = chunk == 0 ? in.size() - pos : std::min(chunk, in.size() - pos);
    pos += r.feed(std::string_view(in).substr(pos, n), out);
  }
  return {r.done(), pos, out, r.done() ? r.verdict() : V::kOk};
}

TEST(DataReader, Table) {
  struct Case {
    const char* name;
    std::string in;
    bool done;
    std::string stored;  // checked when verdict is kOk
    V verdict;
  };
  const std::vector<Case> cases = {
      {"empty message", ".\r\n", true, "", V::kOk},
      {"one line", "a\r\n.\r\n", true, "a\n", V::kOk},
      {"header and body", "Subject: x\r\n\r\nbody\r\n.\r\n", true, "Subject: x\n\nbody\n",
       V::kOk},
      {"dot stuffing", "..a\r\n..\r\n.\r\n", true, ".a\n.\n", V::kOk},
      {"dot then text", ".x\r\n.\r\n", true, "x\n", V::kOk},
      {"dot inside line", "a.b\r\n.\r\n", true, "a.b\n", V::kOk},
      {"not yet ended", "a\r\n", false, "a\n", V::kOk},
      {"bare LF in text", "a\nb\r\n.\r\n", true, "", V::kBareLineEnd},
      {"bare CR in text", "a\rb\r\n.\r\n", true, "", V::kBareLineEnd},
      {"CR CR LF", "a\r\r\n.\r\n", true, "", V::kBareLineEnd},
      {"NUL", std::string("a\0b\r\n.\r\n", 8), true, "", V::kNul},
      // Smuggling: none of these ends the data.
      {"LF dot LF", "a\n.\nMAIL FROM:<x>\r\n", false, "", V::kOk},
      {"CRLF dot LF", "a\r\n.\nMAIL FROM:<x>\r\n", false, "", V::kOk},
      {"LF dot CRLF", "a\n.\r\nMAIL FROM:<x>\r\n", false, "", V::kOk},
      {"CR dot CRLF", "a\r.\r\nMAIL FROM:<x>\r\n", false, "", V::kOk},
      {"CRLF dot CR", "a\r\n.\rMAIL FROM:<x>\r\n", false, "", V::kOk},
      {"smuggled then real end", "a\r\n.\nMAIL FROM:<x>\r\n.\r\n", true, "", V::kBareLineEnd},
      {"LF dot CRLF then real end", "a\n.\r\nb\r\n.\r\n", true, "", V::kBareLineEnd},
  };
  for (const auto& c : cases) {
    for (size_t chunk : {size_t{0}, size_t{1}, size_t{2}, size_t{3}}) {
      Result r = run(c.in, 0, chunk);
      EXPECT_EQ(r.done, c.done) << c.name << " chunk " << chunk;
      if (!c.done) continue;
      EXPECT_EQ(r.verdict, c.verdict) << c.name << " chunk " << chunk;
      if (c.verdict == V::kOk) {
        EXPECT_EQ(r.stored, c.stored) << c.name << " chunk " << chunk;
      }
    }
  }
}

TEST(DataReader, StopsRightAfterTheEnd) {
  DataReader r(0);
  std::string out;
  std::string in = "a\r\n.\r\nQUIT\r\n";
  size_t n = r.feed(in, out);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(n, in.size() - 6);  // "QUIT\r\n" is left for the command loop
  EXPECT_EQ(r.feed("more", out), 0u);
}

TEST(DataReader, DatabytesCountsStoredBytes) {
  // "ab\n" is 3 stored bytes: CRLF counts as one, the stuffed dot as none.
  EXPECT_EQ(run("ab\r\n.\r\n", 3).verdict, V::kOk);
  EXPECT_EQ(run("ab\r\n.\r\n", 2).verdict, V::kTooBig);
  EXPECT_EQ(run("..\r\n.\r\n", 2).verdict, V::kOk);
  EXPECT_EQ(run("..\r\n.\r\n", 1).verdict, V::kTooBig);
  Result big = run(std::string(100000, 'x') + "\r\n.\r\n", 10, 4096);
  EXPECT_EQ(big.verdict, V::kTooBig);
  EXPECT_EQ(big.stored.size(), 10u);  // nothing past the limit is kept
}

TEST(DataReader, HopCount) {
  auto header = [](int received, int delivered) {
    std::string h;
    for (int i = 0; i < received; ++i) h += "Received: from x\r\n";
    for (int i = 0; i < delivered; ++i) h += "DELIVERED-To: y\r\n";
    return h;
  };
  EXPECT_EQ(run(header(99, 0) + "\r\n.\r\n").verdict, V::kOk);
  EXPECT_EQ(run(header(100, 0) + "\r\n.\r\n").verdict, V::kHops);
  EXPECT_EQ(run(header(60, 40) + "\r\n.\r\n").verdict, V::kHops);
  EXPECT_EQ(run(header(60, 39) + "\r\n.\r\n").verdict, V::kOk);
  // Only the header counts; continuation lines and the body do not.
  EXPECT_EQ(run(header(50, 0) + "\r\n" + header(60, 0) + ".\r\n").verdict, V::kOk);
  std::string folded = "Subject: a\r\n";
  for (int i = 0; i < 120; ++i) folded += " received\r\n";
  EXPECT_EQ(run(folded + "\r\n.\r\n").verdict, V::kOk);
  // qmail counts the prefix: "Received-SPF" is a Received line too.
  std::string spf;
  for (int i = 0; i < 100; ++i) spf += "received-spf: pass\r\n";
  EXPECT_EQ(run(spf + "\r\n.\r\n").verdict, V::kHops);
}

TEST(DataReader, RefusalsInOrder) {
  // Bare line ends first, then NUL, then hops, then size.
  std::string hops;
  for (int i = 0; i < 100; ++i) hops += "Received: x\r\n";
  EXPECT_EQ(run(hops + "\r\n\nx\r\n.\r\n").verdict, V::kBareLineEnd);
  EXPECT_EQ(run(hops + "\r\nx" + std::string(1, '\0') + "\r\n.\r\n").verdict, V::kNul);
  // 100 stored header lines of 12 bytes, then a body past databytes.
  EXPECT_EQ(run(hops + "\r\n" + std::string(50, 'x') + "\r\n.\r\n", 1210).verdict, V::kHops);
}

}  // namespace
}  // namespace qng::smtpd

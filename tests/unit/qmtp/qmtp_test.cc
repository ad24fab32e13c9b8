// qmtp_test.cc: QMTP packages and QMQP requests: building, stream parsing
// (well-formed and malformed), CRLF -> LF, the hop count, replies, the
// Received line and control/qmqpservers lines.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fd.h"
#include "io.h"
#include "netstring.h"
#include "qmtp.h"

namespace qng {
namespace {

using namespace std::string_literals;

// Feeds `data` through an anonymous file into a Reader with a small
// buffer, so that pieces cross buffer boundaries.
class Input {
 public:
  explicit Input(const std::string& data, size_t bufsize = 7) {
    fd_.reset(::memfd_create("qmtptest", MFD_CLOEXEC));
    EXPECT_TRUE(fd_.valid());
    EXPECT_TRUE(write_all(fd_.get(), data));
    EXPECT_EQ(::lseek(fd_.get(), 0, SEEK_SET), 0);
    reader_ = std::make_unique<Reader>(fd_.get(), 5000, bufsize);
  }
  Reader& get() { return *reader_; }

 private:
  Fd fd_;
  std::unique_ptr<Reader> reader_;
};

// One parsed package or request; an unacceptable address is nullopt.
struct Parsed {
  LineEnds ends = LineEnds::kLf;
  std::string message;
  std::optional<std::string> sender;
  std::vector<std::optional<std::string>> recipients;
  bool operator==(const Parsed&) const = default;
};

std::optional<std::string> address_of(const WireAddress& a) {
  if (!a.acceptable) return std::nullopt;
  return a.address;
}

// Reads every package; returns them and the error that ended the input
// (0 when it ended cleanly).
struct QmtpRun {
  std::vector<Parsed> packages;
  int err = 0;
};

QmtpRun read_qmtp(const std::string& data, size_t bufsize = 7) {
  Input in(data, bufsize);
  QmtpReader r(in.get());
  QmtpRun run;
  for (;;) {
    auto b = r.begin();
    if (!b) return run.err = b.error().code(), run;
    if (!*b) return run;
    Parsed p;
    p.ends = r.line_ends();
    for (;;) {
      auto m = r.message();
      if (!m) return run.err = m.error().code(), run;
      if (m->empty()) break;
      p.message.append(*m);
    }
    auto s = r.sender();
    if (!s) return run.err = s.error().code(), run;
    p.sender = address_of(*s);
    for (;;) {
      auto rc = r.recipient();
      if (!rc) return run.err = rc.error().code(), run;
      if (!*rc) break;
      p.recipients.push_back(address_of(**rc));
    }
    run.packages.push_back(std::move(p));
  }
}

struct QmqpRun {
  std::optional<Parsed> request;
  bool began = false;
  int err = 0;
};

QmqpRun read_qmqp(const std::string& data, size_t bufsize = 7) {
  Input in(data, bufsize);
  QmqpReader r(in.get());
  QmqpRun run;
  auto b = r.begin();
  if (!b) return run.err = b.error().code(), run;
  if (!*b) return run;
  run.began = true;
  Parsed p;
  for (;;) {
    auto m = r.message();
    if (!m) return run.err = m.error().code(), run;
    if (m->empty()) break;
    p.message.append(*m);
  }
  EXPECT_EQ(p.message.size(), r.message_length());
  auto s = r.sender();
  if (!s) return run.err = s.error().code(), run;
  p.sender = address_of(*s);
  for (;;) {
    auto rc = r.recipient();
    if (!rc) return run.err = rc.error().code(), run;
    if (!*rc) break;
    p.recipients.push_back(address_of(**rc));
  }
  run.request = std::move(p);
  return run;
}

// --- Building ---

TEST(QmtpBuild, PackageBytes) {
  EXPECT_EQ(qmtp_package("Subject: x\n\nhi\n", "a@b", {"c@d", "e@f"}),
            "16:\nSubject: x\n\nhi\n,3:a@b,12:3:c@d,3:e@f,,");
  EXPECT_EQ(qmtp_package("x\r\n", "", {"c@d"}, LineEnds::kCrlf), "4:\rx\r\n,0:,6:3:c@d,,");
  EXPECT_EQ(qmtp_package("", "", {}), "1:\n,0:,0:,");
}

TEST(QmqpBuild, RequestBytesAndPieces) {
  // The example of cr.yp.to/proto/qmqp.html, with our own addresses.
  std::string want = "38:16:A simple message,6:a@b.cd,6:e@f.gh,,";
  EXPECT_EQ(qmqp_request("A simple message", "a@b.cd", {"e@f.gh"}), want);
  std::string env = qmqp_envelope("a@b.cd", {"e@f.gh"});
  EXPECT_EQ(env, "6:a@b.cd,6:e@f.gh,");
  auto head = qmqp_head(16, env.size());
  ASSERT_TRUE(head);
  EXPECT_EQ(*head + "A simple message" + qmqp_tail(env), want);
  // The pieces make exactly one netstring whatever the sizes.
  for (size_t n : {0u, 9u, 10u, 99u, 100u, 12345u}) {
    std::string m(n, 'm');
    std::string e = qmqp_envelope("", {"x@y", "z"});
    EXPECT_EQ(*qmqp_head(n, e.size()) + m + qmqp_tail(e), qmqp_request(m, "", {"x@y", "z"}))
        << n;
  }
  EXPECT_FALSE(qmqp_head(UINT64_MAX, 1));
}

// --- Parsing QMTP ---

TEST(QmtpRead, RoundTripPipelined) {
  std::string big(200000, 'b');
  big[65535] = '\r';  // a CR that ends a chunk in LF mode stays as it is
  std::string data = qmtp_package("Subject: one\n\nbody\n", "a@example.org",
                                  {"x@example.test", "y@example.test"}) +
                     qmtp_package("crlf\r\nbody\r\n", "", {"z@example.test"}, LineEnds::kCrlf) +
                     qmtp_package(big, "b@example.org", {"w@example.test"});
  for (size_t bufsize : {1u, 7u, 8192u}) {
    auto run = read_qmtp(data, bufsize);
    EXPECT_EQ(run.err, 0) << bufsize;
    ASSERT_EQ(run.packages.size(), 3u) << bufsize;
    EXPECT_EQ(run.packages[0],
              (Parsed{LineEnds::kLf, "Subject: one\n\nbody\n", "a@example.org",
                      {"x@example.test", "y@example.test"}}));
    EXPECT_EQ(run.packages[1],
              (Parsed{LineEnds::kCrlf, "crlf\nbody\n", "", {"z@example.test"}}));
    EXPECT_EQ(run.packages[2], (Parsed{LineEnds::kLf, big, "b@example.org", {"w@example.test"}}));
  }
}

TEST(QmtpRead, CrlfAcrossChunks) {
  // CR LF split over the reader's 64 KiB pieces, and a final CR.
  std::string m(65535, 'a');
  m += "\r\nb\r\r\nc\rd\r";
  auto run = read_qmtp(qmtp_package(m, "s", {"r"}, LineEnds::kCrlf), 8192);
  ASSERT_EQ(run.err, 0);
  ASSERT_EQ(run.packages.size(), 1u);
  EXPECT_EQ(run.packages[0].message, std::string(65535, 'a') + "\nb\r\nc\rd\r");
}

TEST(QmtpRead, AddressesTooLongOrWithNul) {
  std::string ok(kMaxWireAddress - 1, 'a');
  std::string bad(kMaxWireAddress, 'a');
  auto run = read_qmtp(qmtp_package("m\n", bad, {ok, bad, "x\0y"s, "", "z"}));
  ASSERT_EQ(run.err, 0);
  ASSERT_EQ(run.packages.size(), 1u);
  const Parsed& p = run.packages[0];
  EXPECT_EQ(p.sender, std::nullopt);
  ASSERT_EQ(p.recipients.size(), 5u);
  EXPECT_EQ(p.recipients[0], ok);
  EXPECT_EQ(p.recipients[1], std::nullopt);
  EXPECT_EQ(p.recipients[2], std::nullopt);
  EXPECT_EQ(p.recipients[3], "");
  EXPECT_EQ(p.recipients[4], "z");
  auto nul = read_qmtp(qmtp_package("m\n", "a\0b"s, {"r"}));
  ASSERT_EQ(nul.packages.size(), 1u);
  EXPECT_EQ(nul.packages[0].sender, std::nullopt);
}

struct Malformed {
  const char* name;
  std::string in;
  size_t packages;  // complete packages before the error
  int err;          // 0: ended cleanly
};

const std::string kGood = "2:\nm,1:s,4:1:r,,";

const Malformed kQmtpCases[] = {
    {"empty input", "", 0, 0},
    {"one package", kGood, 1, 0},
    {"two packages", kGood + kGood, 2, 0},
    {"no recipients", "2:\nm,1:s,0:,", 1, 0},
    {"message without encoding byte", "0:,1:s,4:1:r,,", 0, EPROTO},
    {"bad encoding byte", "2:xm,1:s,4:1:r,,", 0, EPROTO},
    {"no length", ":\nm,", 0, EPROTO},
    {"letter in length", "2a:\nm,", 0, EPROTO},
    {"leading zero", "02:\nm,1:s,4:1:r,,", 0, EPROTO},
    {"space before package", " 2:\nm,1:s,4:1:r,,", 0, EPROTO},
    {"message longer than said", "2:\nmm,1:s,4:1:r,,", 0, EPROTO},
    {"message missing comma", "2:\nm;1:s,4:1:r,,", 0, EPROTO},
    {"sender missing comma", "2:\nm,1:s;4:1:r,,", 0, EPROTO},
    {"recipient runs past its list", "2:\nm,1:s,3:1:r,,", 0, EPROTO},
    {"recipient list missing comma", "2:\nm,1:s,4:1:r,;", 0, EPROTO},
    {"recipient missing comma", "2:\nm,1:s,4:1:r;,", 0, EPROTO},
    {"garbage in recipient list", "2:\nm,1:s,4:xxxx,", 0, EPROTO},
    {"garbage after a package", kGood + "x", 1, EPROTO},
    {"huge message length", "99999999999999:\n", 0, E2BIG},
    {"huge sender length", "2:\nm,99999999999999:", 0, E2BIG},
    {"huge recipient length", "2:\nm,1:s,99:99999999999999:", 0, E2BIG},
    {"truncated length", "2", 0, EPIPE},
    {"truncated message", "9:\nabc", 0, EPIPE},
    {"truncated before comma", "2:\nm", 0, EPIPE},
    {"truncated sender", "2:\nm,5:ab", 0, EPIPE},
    {"truncated recipients", "2:\nm,1:s,4:1:", 0, EPIPE},
    {"truncated final comma", "2:\nm,1:s,4:1:r,", 0, EPIPE},
    {"second package truncated", kGood + "2:\n", 1, EPIPE},
    {"long address truncated", "2:\nm,5000:aaaa", 0, EPIPE},
};

TEST(QmtpRead, MalformedTable) {
  for (const auto& c : kQmtpCases) {
    auto run = read_qmtp(c.in);
    EXPECT_EQ(run.packages.size(), c.packages) << c.name;
    EXPECT_EQ(run.err, c.err) << c.name;
  }
}

TEST(QmtpRead, OutOfOrderCallsFail) {
  Input in(kGood);
  QmtpReader r(in.get());
  auto s = r.sender();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), EINVAL);
  ASSERT_TRUE(r.begin().value());
  auto again = r.begin();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), EINVAL);
}

// --- Parsing QMQP ---

TEST(QmqpRead, RoundTrip) {
  std::string big(150000, 'q');
  for (const auto& m : {std::string("Subject: x\n\nhi\n"), std::string(), big}) {
    auto run = read_qmqp(qmqp_request(m, "a@b", {"c@d", "e@f"}));
    ASSERT_EQ(run.err, 0);
    ASSERT_TRUE(run.request);
    EXPECT_EQ(*run.request, (Parsed{LineEnds::kLf, m, "a@b", {"c@d", "e@f"}}));
  }
  auto none = read_qmqp("");
  EXPECT_EQ(none.err, 0);
  EXPECT_FALSE(none.began);
}

TEST(QmqpRead, BadAddresses) {
  std::string bad(kMaxWireAddress, 'x');
  auto run = read_qmqp(qmqp_request("m", "a\0b"s, {bad, "ok"}));
  ASSERT_EQ(run.err, 0);
  ASSERT_TRUE(run.request);
  EXPECT_EQ(run.request->sender, std::nullopt);
  EXPECT_EQ(run.request->recipients,
            (std::vector<std::optional<std::string>>{std::nullopt, "ok"}));
}

const Malformed kQmqpCases[] = {
    // packages: 1 when the request was read whole.
    {"good", "12:1:m,1:s,1:r,,", 1, 0},
    {"no recipients", "8:1:m,1:s,,", 1, 0},
    {"message runs past request", "5:9:m", 0, EPROTO},
    {"message fills request", "3:1:m,", 0, EPROTO},
    {"no sender", "4:1:m,,", 0, EPROTO},
    {"recipient runs past request", "12:1:m,1:s,9:r,,", 0, EPROTO},
    {"request longer than content", "13:1:m,1:s,1:r,x,", 0, EPROTO},
    {"missing outer comma", "12:1:m,1:s,1:r,;", 0, EPROTO},
    {"missing message comma", "12:1:m;1:s,1:r,,", 0, EPROTO},
    {"leading zero", "012:1:m,1:s,1:r,,", 0, EPROTO},
    {"not a netstring", "hello", 0, EPROTO},
    {"huge length", "99999999999999:", 0, E2BIG},
    {"truncated", "12:1:m,1:s", 0, EPIPE},
    {"truncated before outer comma", "12:1:m,1:s,1:r,", 0, EPIPE},
};

TEST(QmqpRead, MalformedTable) {
  for (const auto& c : kQmqpCases) {
    auto run = read_qmqp(c.in);
    EXPECT_EQ(run.request.has_value() ? 1u : 0u, c.packages) << c.name;
    EXPECT_EQ(run.err, c.err) << c.name;
  }
}

// --- CRLF, hops ---

TEST(QmtpCrlfToLf, Table) {
  struct Case {
    std::string in, want;
  };
  const Case cases[] = {
      {"", ""},
      {"a\r\nb\r\n", "a\nb\n"},
      {"a\rb", "a\rb"},
      {"\r\r\n", "\r\n"},
      {"\r\r\r\n", "\r\r\n"},
      {"x\r", "x\r"},
      {"bare\nlf\n", "bare\nlf\n"},
      {"\n\r", "\n\r"},
      {"\r\n\r\n.\r\n", "\n\n.\n"},
      {"nul\0\r\n"s, "nul\0\n"s},
  };
  for (const auto& c : cases) {
    std::string whole;
    CrlfToLf a;
    a.feed(c.in, whole);
    a.finish(whole);
    EXPECT_EQ(whole, c.want) << c.in;
    std::string bytewise;  // the same whatever the pieces
    CrlfToLf b;
    for (char ch : c.in) b.feed(std::string_view(&ch, 1), bytewise);
    b.finish(bytewise);
    EXPECT_EQ(bytewise, c.want) << c.in;
  }
}

TEST(QmtpHopCounter, Table) {
  auto lines = [](const std::string& line, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += line;
    return s;
  };
  struct Case {
    std::string message;
    unsigned hops;
  };
  const Case cases[] = {
      {"Subject: x\n\nReceived: body\n", 0},
      {"Received: a\nDelivered-To: b\nreceived: c\nDELIVERED-to: d\nX: y\n\n", 4},
      {"Receive: no\nDeliver: no\nReceivedX: yes\n", 1},
      {"Received", 1},
      {lines("Received: x\n", 99) + "\n" + lines("Received: y\n", 5), 99},
      {lines("Received: x\n", 100), 100},
      {"\nReceived: after the empty line\n", 0},
  };
  for (const auto& c : cases) {
    HopCounter whole;
    whole.feed(c.message);
    EXPECT_EQ(whole.hops(), c.hops) << c.message.substr(0, 40);
    EXPECT_EQ(whole.looping(), c.hops >= kMaxHops);
    HopCounter bytewise;
    for (char ch : c.message) bytewise.feed(std::string_view(&ch, 1));
    EXPECT_EQ(bytewise.hops(), c.hops);
  }
}

// --- Replies ---

TEST(QmtpReplies, ParseAndRead) {
  auto k = parse_reply("Kok 1700000000 qp 42");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->code, 'K');
  EXPECT_EQ(k->text, "ok 1700000000 qp 42");
  EXPECT_EQ(parse_reply("Z").value().code, 'Z');
  EXPECT_EQ(parse_reply("Dno").value().text, "no");
  for (std::string_view bad : {"", "X", "k", " K"}) {
    auto r = parse_reply(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), EPROTO);
  }
  Input in("3:Dno,2:Zx,0:,");
  EXPECT_EQ(read_reply(in.get()).value().code, 'D');
  EXPECT_EQ(read_reply(in.get()).value().text, "x");
  EXPECT_EQ(read_reply(in.get()).error().code(), EPROTO);  // empty reply
  EXPECT_EQ(read_reply(in.get()).error().code(), EPIPE);
  Input big(netstring("K" + std::string(kMaxReplyBytes, 'x')));
  EXPECT_EQ(read_reply(big.get()).error().code(), E2BIG);
}

// --- Received line, servers ---

TEST(QmtpReceived, QmailFormat) {
  TcpPeer p;
  p.remotehost = "front1.example.org";
  p.remoteip = "192.0.2.7";
  p.local = "queue.example.org";
  EXPECT_EQ(network_received_line("QMTP", p, 0),
            "Received: from front1.example.org (192.0.2.7)\n"
            "  by queue.example.org with QMTP; 1 Jan 1970 00:00:00 -0000\n");
  p.remoteinfo = "joe";
  p.remotehost = "evil host\n(x)";
  EXPECT_EQ(network_received_line("QMQP", p, 86400 * 31),
            "Received: from evil?host??x? (joe@192.0.2.7)\n"
            "  by queue.example.org with QMQP; 1 Feb 1970 00:00:00 -0000\n");
}

TEST(QmqpServerAddress, Table) {
  struct Case {
    const char* line;
    std::optional<std::string> ip;
    uint16_t port;
  };
  const Case cases[] = {
      {"192.0.2.7", "192.0.2.7", 628},
      {"192.0.2.7:10628", "192.0.2.7", 10628},
      {"::1", "::1", 628},
      {"2001:db8::1", "2001:db8::1", 628},
      {"[::1]:2628", "::1", 2628},
      {"[2001:db8::1]", "2001:db8::1", 628},
      {"[192.0.2.7]:99", "192.0.2.7", 99},
      {"192.0.2.7:0", std::nullopt, 0},
      {"192.0.2.7:65536", std::nullopt, 0},
      {"192.0.2.7:", std::nullopt, 0},
      {"192.0.2.7:x", std::nullopt, 0},
      {"[::1]x", std::nullopt, 0},
      {"[::1", std::nullopt, 0},
      {"queue.example.org", std::nullopt, 0},
      {"queue.example.org:628", std::nullopt, 0},
      {"", std::nullopt, 0},
      {"192.0.2.7 ", std::nullopt, 0},
  };
  for (const auto& c : cases) {
    auto s = parse_server_address(c.line);
    if (!c.ip) {
      EXPECT_FALSE(s) << c.line;
      continue;
    }
    ASSERT_TRUE(s) << c.line;
    EXPECT_EQ(format_ip(s->ip), *c.ip) << c.line;
    EXPECT_EQ(s->port, c.port) << c.line;
  }
}

}  // namespace
}  // namespace qng

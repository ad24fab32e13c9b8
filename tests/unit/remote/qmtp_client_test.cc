// qmtp_client_test.cc: qmail-remote's QMTP client: the package bytes, the
// MXPS preferences, qmtproutes values, the mapping of K/Z/D replies to
// records, and whole sessions over a socketpair (replies, a dropped
// connection, a malformed reply).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "qmtp.h"
#include "qmtp_client.h"
#include "routes.h"

namespace qng::remote {
namespace {

using namespace std::string_literals;

TEST(QmtpClient, PackageBytes) {
  const std::string prefix = "DKIM-Signature: v=1\n";
  const std::string message = "Subject: x\n\n.dot\r\nbody\n";
  auto head = qmtp_head(prefix.size(), message.size());
  ASSERT_TRUE(head);
  std::string got = *head + prefix + message + qmtp_tail("a@example.org", {"b@x.test", "c@y.test"});
  EXPECT_EQ(got,
            "44:\nDKIM-Signature: v=1\nSubject: x\n\n.dot\r\nbody\n,"
            "13:a@example.org,"
            "22:8:b@x.test,8:c@y.test,,");
  // The same bytes as the library's builder (qmail-qmtpd's reader's other side).
  EXPECT_EQ(got, qmtp_package(prefix + message, "a@example.org", {"b@x.test", "c@y.test"}));
  EXPECT_EQ(*qmtp_head(0, 0) + qmtp_tail("", {"r"}), "1:\n,0:,4:1:r,,");
  EXPECT_FALSE(qmtp_head(kMaxWireLength, 1));
  EXPECT_FALSE(qmtp_head(1, kMaxWireLength));
  EXPECT_FALSE(qmtp_head(UINT64_MAX, UINT64_MAX));
}

TEST(QmtpClient, Mxps) {
  const struct {
    unsigned pref;
    bool qmtp;
  } cases[] = {
      {0, false},     {1, false},     {10, false},    {12800, false}, {12801, true},
      {12802, false}, {12816, false}, {12817, true},  {12833, true},  {13041, true},
      {13042, false}, {13055, false}, {13056, false}, {13057, false}, {12785, false},
      {65535, false},
  };
  for (const auto& c : cases) EXPECT_EQ(mxps_qmtp(c.pref), c.qmtp) << c.pref;
}

TEST(QmtpClient, QmtproutesValues) {
  const struct {
    const char* value;
    std::optional<Relay> want;
  } cases[] = {
      {"relay.example", Relay{"relay.example", 209}},
      {"relay.example:2209", Relay{"relay.example", 2209}},
      {"[192.0.2.7]", Relay{"[192.0.2.7]", 209}},
      {"[2001:db8::7]:20", Relay{"[2001:db8::7]", 20}},
      {":2209", Relay{"", 2209}},
      {"relay:0", std::nullopt},
      {"relay:65536", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_relay(c.value, kQmtpPort), c.want) << c.value;
  EXPECT_EQ(parse_relay("relay"), (Relay{"relay", 25}));
}

TEST(QmtpClient, Report) {
  const struct {
    std::vector<WireReply> replies;
    std::string want;
  } cases[] = {
      {{{'K', "ok 1700000000 qp 42"}},
       "r\0K127.0.0.1 accepted message.\nRemote host said: ok 1700000000 qp 42\n\0"s},
      {{{'Z', "try later"}, {'K', "ok 1"}, {'D', "no mailbox"}, {'K', "ok 2"}},
       "s127.0.0.1 does not like recipient.\nRemote host said: try later\n\0"
       "r\0"
       "h127.0.0.1 does not like recipient.\nRemote host said: no mailbox\n\0"
       "r\0"
       "K127.0.0.1 accepted message.\nRemote host said: ok 1\n\0"s},
      {{{'D', "no mailbox (#5.1.1)"}},
       "h127.0.0.1 does not like recipient.\nRemote host said: no mailbox (#5.1.1)\n\0"
       "DGiving up on 127.0.0.1.\nRemote host said: no mailbox (#5.1.1)\n\0"s},
      {{{'Z', "a\0b"s}},
       "s127.0.0.1 does not like recipient.\nRemote host said: a?b\n\0"
       "DGiving up on 127.0.0.1.\nRemote host said: a?b\n\0"s},
  };
  for (const auto& c : cases) {
    Output o;
    qmtp_report(c.replies, "127.0.0.1", o);
    EXPECT_EQ(o.bytes(), c.want);
  }
}

// A whole session: the server's replies are in the socket before the
// client writes (a small package fits in the socket buffer), the peer's
// write side closed when `close_after` says so.
struct Session {
  std::string sent;     // the bytes the client wrote
  std::string records;  // the client's records
};

Session run_session(const std::string& replies, bool close_after) {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  // The client's end non-blocking, as timeout_connect makes it: a test
  // that goes wrong times out instead of hanging.
  EXPECT_EQ(::fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
  Fd ours(sv[0]);
  Fd peer(sv[1]);
  EXPECT_TRUE(write_all(peer.get(), replies));
  if (close_after) {
    EXPECT_EQ(::shutdown(peer.get(), SHUT_WR), 0);
  }

  Fd message(::memfd_create("qmtp-test", 0));
  const std::string stored = "Subject: t\n\nhello\n";
  EXPECT_TRUE(write_all(message.get(), stored));

  Delivery d;
  d.envelope_sender = "s@example.org";
  d.envelope_recipients = {"a@b.test", "c@b.test"};
  d.prefix = "X-Sig: 1\n";
  d.size = stored.size() + d.prefix.size();
  d.message_fd = message.get();
  Target t{0, "", *parse_ip("127.0.0.1")};
  Output out;
  {
    Channel ch(std::move(ours), 2000);
    deliver_qmtp(ch, d, t, out);
  }
  Session s;
  s.records = out.bytes();
  char buf[4096];
  for (;;) {
    ssize_t r = ::read(peer.get(), buf, sizeof buf);
    if (r <= 0) break;
    s.sent.append(buf, static_cast<size_t>(r));
  }
  return s;
}

TEST(QmtpClient, SessionReplies) {
  Session s = run_session("10:Kok 1 qp 2,19:Dsorry, no mailbox.,", false);
  EXPECT_EQ(s.sent, "28:\nX-Sig: 1\nSubject: t\n\nhello\n,13:s@example.org,"
                    "22:8:a@b.test,8:c@b.test,,");
  EXPECT_EQ(s.records,
            "r\0"
            "h127.0.0.1 does not like recipient.\nRemote host said: sorry, no mailbox.\n\0"
            "K127.0.0.1 accepted message.\nRemote host said: ok 1 qp 2\n\0"s);
}

TEST(QmtpClient, SessionDropped) {
  // One reply of two, then the end of the stream: nothing is reported per
  // recipient, and the message may have been taken.
  Session s = run_session("10:Kok 1 qp 2,", true);
  EXPECT_EQ(s.records,
            "ZConnected to 127.0.0.1 but connection died. Possible duplicate! (#4.4.2)\n\0"s);
  s = run_session("", true);
  EXPECT_EQ(s.records,
            "ZConnected to 127.0.0.1 but connection died. Possible duplicate! (#4.4.2)\n\0"s);
  s = run_session("10:Kok 1 qp 2,5:Zab", true);  // inside a netstring
  EXPECT_EQ(s.records,
            "ZConnected to 127.0.0.1 but connection died. Possible duplicate! (#4.4.2)\n\0"s);
}

TEST(QmtpClient, SessionMalformed) {
  const std::string kMalformed =
      "ZConnected to 127.0.0.1 but it sent a malformed QMTP reply. Possible duplicate! "
      "(#4.4.2)\n\0"s;
  for (const char* bad : {"2:Xy,", "2:Ky;", "0:,", "x:K,", "01:K,", "99999999999:K",
                          "10001:K"}) {
    Session s = run_session(bad, true);
    EXPECT_EQ(s.records, kMalformed) << bad;
  }
}

}  // namespace
}  // namespace qng::remote

// qmqpc_test.cc: qmail-qmqpc's parts: qmail-queue's envelope turned into
// QMQP's, the message spool (memory and temporary file), the instance it
// works for, and a refused connection.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "fd.h"
#include "io.h"
#include "qmqpc.h"
#include "qmtp.h"

namespace qng::qmqpc {
namespace {

using namespace std::string_literals;

Fd memfd_with(const std::string& data) {
  Fd fd(::memfd_create("qmqpctest", MFD_CLOEXEC));
  EXPECT_TRUE(fd.valid());
  EXPECT_TRUE(write_all(fd.get(), data));
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_SET), 0);
  return fd;
}

std::string read_all(int fd) {
  EXPECT_EQ(::lseek(fd, 0, SEEK_SET), 0);
  std::string out;
  char buf[65536];
  for (;;) {
    auto r = read_some(fd, buf, sizeof buf);
    if (!r || *r == 0) return out;
    out.append(buf, *r);
  }
}

TEST(QmqpcEnvelope, Table) {
  const std::string longest(kMaxQueueAddress, 'a');
  struct Case {
    const char* name;
    std::string in;
    int want;
    std::string out;  // QMQP envelope bytes when kOk
  };
  const Case cases[] = {
      {"sender and two", "Fa@b\0Tc@d\0Te@f\0\0"s, kOk, qmqp_envelope("a@b", {"c@d", "e@f"})},
      {"bounce, no recipients", "F\0\0"s, kOk, qmqp_envelope("", {})},
      {"longest address", "F" + longest + "\0T"s + longest + "\0\0"s, kOk,
       qmqp_envelope(longest, {longest})},
      {"address too long", "F" + longest + "x\0\0"s, kTooLong, ""},
      {"recipient too long", "Fa\0T"s + longest + "x\0\0"s, kTooLong, ""},
      {"no envelope", "", kFormat, ""},
      {"no final NUL", "Fa@b\0Tc@d\0"s, kFormat, ""},
      {"cut inside an address", "Fa@b\0Tc@"s, kFormat, ""},
      {"wrong first type", "Ta@b\0\0"s, kFormat, ""},
      {"wrong later type", "Fa@b\0Xc@d\0\0"s, kFormat, ""},
      {"empty first record", "\0"s, kFormat, ""},
      {"empty recipient record", "Fa\0T\0\0"s, kOk, qmqp_envelope("a", {""})},
  };
  for (const auto& c : cases) {
    Fd fd = memfd_with(c.in);
    Reader in(fd.get());
    std::string out;
    EXPECT_EQ(read_envelope(in, out), c.want) << c.name;
    if (c.want == kOk) {
      EXPECT_EQ(out, c.out) << c.name;
    }
  }
}

TEST(QmqpcSpool, MemoryAndFile) {
  for (size_t n : {size_t{0}, size_t{10}, kSpillBytes, kSpillBytes + 1, 3 * kSpillBytes + 7}) {
    std::string message(n, 'm');
    for (size_t i = 0; i < n; i += 4099) message[i] = static_cast<char>('a' + i % 26);
    Fd in = memfd_with(message);
    Spool spool;
    ASSERT_EQ(spool.load(in.get()), kOk) << n;
    EXPECT_EQ(spool.size(), n);
    Fd out(::memfd_create("qmqpcout", MFD_CLOEXEC));
    // Twice: each server gets the whole message.
    for (int round = 0; round < 2; ++round) {
      ASSERT_EQ(::ftruncate(out.get(), 0), 0);
      ASSERT_EQ(::lseek(out.get(), 0, SEEK_SET), 0);
      Writer w(out.get());
      ASSERT_TRUE(spool.write_to(w));
      ASSERT_TRUE(w.flush());
      EXPECT_TRUE(read_all(out.get()) == message) << n << " round " << round;
    }
  }
}

TEST(QmqpcHome, ByName) {
  char tmpl[] = "/tmp/qmqpchome.XXXXXX";
  ASSERT_TRUE(::mkdtemp(tmpl));
  std::string dir = tmpl;
  ASSERT_EQ(::mkdir((dir + "/bin").c_str(), 0755), 0);
  ::setenv("QMAILHOME", "/elsewhere", 1);
  // Run as qmail-queue (by a path, as qmail's callers do): the instance is
  // where the program is; $QMAILHOME does not count.
  EXPECT_EQ(choose_home(dir + "/bin/qmail-queue"), dir);
  EXPECT_EQ(choose_home(dir + "/bin/../bin/qmail-queue"), dir);
  // Under its own name: $QMAILHOME.
  EXPECT_EQ(choose_home(dir + "/bin/qmail-qmqpc"), "/elsewhere");
  EXPECT_EQ(choose_home("qmail-qmqpc"), "/elsewhere");
  ::unsetenv("QMAILHOME");
  ::rmdir((dir + "/bin").c_str());
  ::rmdir(dir.c_str());
}

TEST(QmqpcServer, RefusedConnection) {
  // A port that is bound but not listening refuses at once.
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
  auto server = parse_server_address("127.0.0.1:" + std::to_string(ntohs(a.sin_port)));
  ASSERT_TRUE(server);
  Fd in = memfd_with("hello\n");
  Spool spool;
  ASSERT_EQ(spool.load(in.get()), kOk);
  int lasterror = kControl;
  EXPECT_EQ(try_server(*server, spool, qmqp_envelope("a", {"b"}), lasterror), -1);
  EXPECT_EQ(lasterror, kRefused);
}

}  // namespace
}  // namespace qng::qmqpc

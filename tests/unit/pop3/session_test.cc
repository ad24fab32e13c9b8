// session_test.cc: qmail-pop3d's transaction state, byte for byte, over a
// socketpair; what QUIT (and only QUIT) does to the Maildir.
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fd.h"
#include "maildir_list.h"
#include "session.h"

namespace qng::pop3 {
namespace {

const std::string kMsgA = "Subject: a\n\n.dot\nbody\n";                 // 22 bytes
const std::string kMsgB = "Subject: b\nX: y\n\nl1\nl2\nl3";               // 25 bytes

class Pop3Session : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "qng-pop3d-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    for (const char* s : {"/tmp", "/new", "/cur"}) std::filesystem::create_directory(dir_ + s);
    add("new/a.1.host", kMsgA, 200);
    add("cur/b.2.host:2,S", kMsgB, 100);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void add(const std::string& rel, const std::string& data, time_t age) {
    std::ofstream(dir_ + "/" + rel, std::ios::binary) << data;
    time_t t = std::time(nullptr) - age;
    timeval tv[2] = {{t, 0}, {t, 0}};
    ASSERT_EQ(::utimes((dir_ + "/" + rel).c_str(), tv), 0);
  }

  // Sends input, then end of input; returns everything the session said.
  std::string talk(const std::string& input, bool* quit = nullptr) {
    auto list = list_maildir(dir_, std::time(nullptr));
    EXPECT_TRUE(list);
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    Fd client(sv[0]), server(sv[1]);
    bool quitted = false;
    std::thread t([&] {
      Session s(server.get(), server.get(), dir_, std::move(*list), 10000);
      quitted = s.serve();
      ::shutdown(server.get(), SHUT_WR);
    });
    EXPECT_TRUE(write_all(client.get(), input));
    ::shutdown(client.get(), SHUT_WR);
    std::string out;
    char buf[4096];
    for (;;) {
      auto n = read_some(client.get(), buf, sizeof buf);
      if (!n || *n == 0) break;
      out.append(buf, *n);
    }
    t.join();
    if (quit) *quit = quitted;
    return out;
  }

  std::vector<std::string> files() {
    std::vector<std::string> out;
    for (const char* sub : {"new", "cur"})
      for (const auto& e : std::filesystem::directory_iterator(dir_ + "/" + sub))
        out.push_back(std::string(sub) + "/" + e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string dir_;
};

TEST_F(Pop3Session, TranscriptAndQuit) {
  const std::string in =
      "STAT\r\nLIST\r\nlist 2\r\nUIDL\r\nUIDL 1\r\nTOP 2 1\r\nRETR 1\r\n"
      "DELE 2\r\nSTAT\r\nLIST\r\nLIST 2\r\nDELE 2\r\nLAST\r\nRSET\r\nLAST\r\n"
      "DELE 2\r\nTOP 1\r\nRETR 0\r\nRETR 3\r\nDELE\r\nNOOP\r\nCAPA\r\nAPOP x y\r\nQUIT\r\n"
      "STAT\r\n";
  const std::string want =
      "+OK \r\n"
      "+OK 2 47\r\n"
      "+OK \r\n1 22\r\n2 25\r\n.\r\n"
      "+OK 2 25\r\n"
      "+OK \r\n1 a.1.host\r\n2 b.2.host\r\n.\r\n"
      "+OK 1 a.1.host\r\n"
      "+OK \r\nSubject: b\r\nX: y\r\n\r\nl1\r\n\r\n.\r\n"
      "+OK \r\nSubject: a\r\n\r\n..dot\r\nbody\r\n\r\n.\r\n"
      "+OK \r\n"
      "+OK 1 22\r\n"
      "+OK \r\n1 22\r\n.\r\n"
      "-ERR already deleted\r\n"
      "-ERR already deleted\r\n"
      "+OK 2\r\n"
      "+OK \r\n"
      "+OK 0\r\n"
      "+OK \r\n"
      "+OK \r\nSubject: a\r\n\r\n..dot\r\nbody\r\n\r\n.\r\n"
      "-ERR messages are counted from 1\r\n"
      "-ERR not that many messages\r\n"
      "-ERR syntax error\r\n"
      "+OK \r\n"
      "+OK capability list follows\r\nTOP\r\nUIDL\r\nPIPELINING\r\n"
      "IMPLEMENTATION qmail-ng\r\n.\r\n"
      "-ERR unimplemented\r\n"
      "+OK \r\n";  // nothing after QUIT
  bool quit = false;
  EXPECT_EQ(talk(in, &quit), want);
  EXPECT_TRUE(quit);
  // DELE 2 happened; message 1 moved from new to cur with ":2,".
  EXPECT_EQ(files(), (std::vector<std::string>{"cur/a.1.host:2,"}));
}

TEST_F(Pop3Session, NoQuitChangesNothing) {
  bool quit = true;
  std::string out = talk("DELE 1\r\nDELE 2\r\nRETR 1\r\n", &quit);
  EXPECT_EQ(out.rfind("+OK \r\n+OK \r\n+OK \r\n-ERR already deleted\r\n", 0), 0u) << out;
  EXPECT_FALSE(quit);
  EXPECT_EQ(files(), (std::vector<std::string>{"cur/b.2.host:2,S", "new/a.1.host"}));
  // A last line without its LF is not a command either.
  EXPECT_EQ(talk("QUIT"), "+OK \r\n");
  EXPECT_EQ(files(), (std::vector<std::string>{"cur/b.2.host:2,S", "new/a.1.host"}));
}

TEST_F(Pop3Session, VanishedMessageAndLongLine) {
  // Listed, then gone before RETR (another client took it).
  auto list = list_maildir(dir_, std::time(nullptr));
  ASSERT_TRUE(list);
  std::filesystem::remove(dir_ + "/new/a.1.host");
  std::string out;
  {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    Fd client(sv[0]), server(sv[1]);
    ASSERT_TRUE(write_all(client.get(), "RETR 1\r\nQUIT\r\n"));
    ::shutdown(client.get(), SHUT_WR);
    Session s(server.get(), server.get(), dir_, std::move(*list), 10000);
    EXPECT_TRUE(s.serve());
    ::shutdown(server.get(), SHUT_WR);
    char buf[4096];
    for (;;) {
      auto n = read_some(client.get(), buf, sizeof buf);
      if (!n || *n == 0) break;
      out.append(buf, *n);
    }
  }
  // The vanished message does not spoil QUIT (nothing to rename, no error).
  EXPECT_EQ(out, "+OK \r\n-ERR unable to open that message\r\n+OK \r\n");

  bool quit = true;
  out = talk("NOOP\r\n" + std::string(kMaxCommandLine + 10, 'x') + "\r\nQUIT\r\n", &quit);
  EXPECT_EQ(out, "+OK \r\n+OK \r\n-ERR command too long\r\n");
  EXPECT_FALSE(quit);
}

}  // namespace
}  // namespace qng::pop3

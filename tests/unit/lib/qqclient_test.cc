// qqclient_test.cc: qmail_close's texts, and QueueClient against small
// shell scripts standing in for qmail-queue ($QMAILQUEUE or HOME/bin).
#include <filesystem>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "qqclient.h"

namespace qng {
namespace {

TEST(QueueExitText, QmailCloseTable) {
  struct Case {
    int code;
    const char* want;
  };
  const Case cases[] = {
      {0, ""},
      {11, "Denvelope address too long for qq (#5.1.3)"},
      {115, "Denvelope address too long for qq (#5.1.3)"},
      {31, "Dmail server permanently rejected message (#5.3.0)"},
      {51, "Zqq out of memory (#4.3.0)"},
      {52, "Zqq timeout (#4.3.0)"},
      {53, "Zqq write error or disk full (#4.3.0)"},
      {54, "Zqq read error (#4.3.0)"},
      {55, "Zqq unable to read configuration (#4.3.0)"},
      {56, "Zqq trouble making network connection (#4.3.0)"},
      {61, "Zqq trouble in home directory (#4.3.0)"},
      {62, "Zqq trouble creating files in queue (#4.3.0)"},
      {63, "Zqq trouble creating files in queue (#4.3.0)"},
      {64, "Zqq trouble creating files in queue (#4.3.0)"},
      {65, "Zqq trouble creating files in queue (#4.3.0)"},
      {66, "Zqq trouble creating files in queue (#4.3.0)"},
      {71, "Zmail server temporarily rejected message (#4.3.0)"},
      {72, "Zconnection to mail server timed out (#4.4.1)"},
      {73, "Zconnection to mail server rejected (#4.4.1)"},
      {74, "Zcommunication with mail server failed (#4.4.2)"},
      {81, "Zqq internal bug (#4.3.0)"},
      {91, "Zqq internal bug (#4.3.0)"},  // netqmail/notqmail: 91 falls into 81
      {120, "Zunable to exec qq (#4.3.0)"},
      {12, "Dqq permanent problem (#5.3.0)"},
      {40, "Dqq permanent problem (#5.3.0)"},
      {10, "Zqq temporary problem (#4.3.0)"},
      {41, "Zqq temporary problem (#4.3.0)"},
      {82, "Zqq temporary problem (#4.3.0)"},  // 82 without text on fd 6
      {100, "Zqq temporary problem (#4.3.0)"},
      {111, "Zqq temporary problem (#4.3.0)"},
      {255, "Zqq temporary problem (#4.3.0)"},
  };
  for (const auto& c : cases) EXPECT_EQ(queue_exit_text(c.code), c.want) << c.code;
}

// A temporary directory with a fake qmail-queue script.
class QueueClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/qng-qq-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(::mkdir((dir_ + "/bin").c_str(), 0755), 0);
    ::setenv("QNG_QQ_DIR", dir_.c_str(), 1);
    ::unsetenv("QMAILQUEUE");
  }
  void TearDown() override {
    ::unsetenv("QMAILQUEUE");
    ::unsetenv("QNG_QQ_DIR");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  // Writes an executable sh script; returns its path.
  std::string script(const std::string& name, const std::string& body) {
    std::string path = dir_ + "/" + name;
    std::ofstream f(path);
    f << "#!/bin/sh\n" << body;
    f.close();
    ::chmod(path.c_str(), 0755);
    return path;
  }
  std::string slurp(const std::string& name) {
    std::ifstream f(dir_ + "/" + name, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  // A script that records its fd 0 (message), fd 1 (envelope) and cwd.
  std::string recorder(const std::string& name, int code = 0) {
    return script(name,
                  "cat > \"$QNG_QQ_DIR/msg\" || exit 54\n"
                  "cat <&1 > \"$QNG_QQ_DIR/env\" || exit 54\n"
                  "pwd > \"$QNG_QQ_DIR/cwd\"\n"
                  "exit " + std::to_string(code) + "\n");
  }

  std::string dir_;
};

TEST_F(QueueClientTest, QmailqueueGetsMessageAndEnvelope) {
  ::setenv("QMAILQUEUE", recorder("filter").c_str(), 1);
  auto qq = QueueClient::start(dir_);
  ASSERT_TRUE(qq) << qq.error().message();
  EXPECT_GT(qq->pid(), 0);
  qq->put("Subject: hi\n\n");
  std::string big(100000, 'x');  // more than one pipe buffer
  qq->put(big);
  qq->put("\n");
  qq->from("a@example.org");
  qq->to("b@example.test");
  qq->to("c@example.test");
  EXPECT_EQ(qq->finish(), "");
  EXPECT_EQ(slurp("msg"), "Subject: hi\n\n" + big + "\n");
  EXPECT_EQ(slurp("env"), std::string("Fa@example.org\0Tb@example.test\0Tc@example.test\0\0", 48));
  EXPECT_EQ(slurp("cwd"), dir_ + "\n");
}

TEST_F(QueueClientTest, PutFdCopiesTheRestOfAFile) {
  ::setenv("QMAILQUEUE", recorder("filter").c_str(), 1);
  std::string file = dir_ + "/in";
  std::ofstream(file) << "skip this|keep this\n";
  int fd = ::open(file.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::lseek(fd, 10, SEEK_SET), 10);
  auto qq = QueueClient::start(dir_);
  ASSERT_TRUE(qq);
  qq->put_fd(fd);
  ::close(fd);
  qq->from("");
  EXPECT_EQ(qq->finish(), "");
  EXPECT_EQ(slurp("msg"), "keep this\n");
  EXPECT_EQ(slurp("env"), std::string("F\0\0", 3));
}

TEST_F(QueueClientTest, WithoutTrustDefaultsToHomeBin) {
  ::setenv("QMAILQUEUE", "/nonexistent/filter", 1);
  recorder("bin/qmail-queue");
  auto qq = QueueClient::start(dir_, /*trust_env=*/false);
  ASSERT_TRUE(qq);
  qq->put("x\n");
  qq->from("s@h");
  qq->to("r@h");
  EXPECT_EQ(qq->finish(), "");
  EXPECT_EQ(slurp("env"), std::string("Fs@h\0Tr@h\0\0", 11));
}

TEST_F(QueueClientTest, RelativeQmailqueueIsRelativeToHome) {
  recorder("bin/myfilter");
  ::setenv("QMAILQUEUE", "bin/myfilter", 1);
  auto qq = QueueClient::start(dir_);
  ASSERT_TRUE(qq);
  qq->from("s@h");
  EXPECT_EQ(qq->finish(), "");
  EXPECT_EQ(slurp("msg"), "");
}

TEST_F(QueueClientTest, ExitCodesBecomeTexts) {
  struct Case {
    std::string body;
    const char* want;
  };
  const Case cases[] = {
      {"cat >/dev/null; cat <&1 >/dev/null; exit 0\n", ""},
      {"cat >/dev/null; cat <&1 >/dev/null; exit 53\n", "Zqq write error or disk full (#4.3.0)"},
      {"exit 11\n", "Denvelope address too long for qq (#5.1.3)"},  // reads nothing
      {"exit 31\n", "Dmail server permanently rejected message (#5.3.0)"},
      {"exit 91\n", "Zqq internal bug (#4.3.0)"},
      {"kill -9 $$\n", "Zqq crashed (#4.3.0)"},
      // notqmail 1.09: exit 82 with the reply on fd 6.
      {"printf 'Dsorry, no viruses here (#5.7.1)' >&6; exit 82\n",
       "Dsorry, no viruses here (#5.7.1)"},
      {"echo 'Ztry later (#4.3.0)' >&6; exit 82\n", "Ztry later (#4.3.0)"},  // LF cut
      {"printf 'Zok\\r\\n250 injected' >&6; exit 82\n", "Zok"},
      {"printf 'Dx' >&6; exit 82\n", "Zqq temporary problem (#4.3.0)"},  // too short
      {"printf 'Kfine thanks' >&6; exit 82\n", "Zqq temporary problem (#4.3.0)"},
      {"printf 'Dignored unless 82' >&6; exit 31\n",
       "Dmail server permanently rejected message (#5.3.0)"},
  };
  for (const auto& c : cases) {
    ::setenv("QMAILQUEUE", script("filter", c.body).c_str(), 1);
    auto qq = QueueClient::start(dir_);
    ASSERT_TRUE(qq);
    // A message bigger than a pipe: scripts that exit at once make our
    // writes fail with EPIPE, which must not kill this process.
    qq->put(std::string(300000, 'm'));
    qq->from("s@h");
    qq->to("r@h");
    EXPECT_EQ(qq->finish(), c.want) << c.body;
  }
}

TEST_F(QueueClientTest, CustomTextIsCappedAt255Bytes) {
  ::setenv("QMAILQUEUE",
           script("filter", "printf 'D%0300d' 0 >&6; exit 82\n").c_str(), 1);
  auto qq = QueueClient::start(dir_);
  ASSERT_TRUE(qq);
  qq->from("s@h");
  std::string got = qq->finish();
  EXPECT_EQ(got, "D" + std::string(254, '0'));
}

TEST_F(QueueClientTest, UnableToExec) {
  ::setenv("QMAILQUEUE", (dir_ + "/missing").c_str(), 1);
  auto qq = QueueClient::start(dir_);
  ASSERT_TRUE(qq);
  qq->put("x");
  qq->from("s@h");
  EXPECT_EQ(qq->finish(), "Zunable to exec qq (#4.3.0)");
}

TEST_F(QueueClientTest, MissingHome) {
  ::setenv("QMAILQUEUE", recorder("filter").c_str(), 1);
  auto qq = QueueClient::start(dir_ + "/nohome");
  ASSERT_TRUE(qq);
  qq->from("s@h");
  EXPECT_EQ(qq->finish(), "Zqq trouble in home directory (#4.3.0)");
}

TEST_F(QueueClientTest, ReadErrorSendsNoFinalNul) {
  ::setenv("QMAILQUEUE", recorder("filter").c_str(), 1);
  auto qq = QueueClient::start(dir_);
  ASSERT_TRUE(qq);
  qq->put("partial");
  qq->put_fd(-1);  // the input fails: nothing more may reach qmail-queue
  qq->from("s@h");
  qq->to("r@h");
  // The stand-in exits 0 anyway; qmail_close still says read error.
  EXPECT_EQ(qq->finish(), "Zqq read error (#4.3.0)");
  EXPECT_EQ(slurp("env"), "");
}

TEST_F(QueueClientTest, NulInAddressIsNeverSent) {
  ::setenv("QMAILQUEUE", recorder("filter").c_str(), 1);
  auto qq = QueueClient::start(dir_);
  ASSERT_TRUE(qq);
  qq->from("s@h");
  qq->to(std::string_view("a@h\0Tevil@h", 11));
  EXPECT_EQ(qq->finish(), "Zqq read error (#4.3.0)");
  EXPECT_EQ(slurp("env"), "");  // no forged record, no final NUL: nothing at all
}

TEST_F(QueueClientTest, AbandonedClientLeavesEnvelopeUnfinished) {
  ::setenv("QMAILQUEUE", recorder("filter").c_str(), 1);
  {
    auto qq = QueueClient::start(dir_);
    ASSERT_TRUE(qq);
    qq->put("msg\n");
    qq->from("s@h");
    qq->to("r@h");
  }  // destroyed without finish(): the child is reaped here
  EXPECT_EQ(slurp("msg"), "msg\n");
  EXPECT_EQ(slurp("env"), "");  // the unsent envelope is dropped: no final NUL
}

TEST_F(QueueClientTest, MovedClientStillFinishes) {
  ::setenv("QMAILQUEUE", recorder("filter").c_str(), 1);
  auto started = QueueClient::start(dir_);
  ASSERT_TRUE(started);
  QueueClient qq = std::move(*started);
  qq.put("moved\n");
  qq.from("s@h");
  EXPECT_EQ(qq.finish(), "");
  EXPECT_EQ(slurp("msg"), "moved\n");
}

TEST_F(QueueClientTest, SigpipeDoesNotKillTheCaller) {
  // With SIGPIPE at its default action, a write to a dead qmail-queue would
  // kill the test binary; reaching the expectation proves it did not.
  struct sigaction dfl {}, old {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGPIPE, &dfl, &old);
  ::setenv("QMAILQUEUE", script("filter", "exec 0<&- 1<&-; sleep 0; exit 53\n").c_str(), 1);
  auto qq = QueueClient::start(dir_);
  ASSERT_TRUE(qq);
  for (int i = 0; i < 20; ++i) qq->put(std::string(65536, 'z'));
  qq->from("s@h");
  EXPECT_EQ(qq->finish(), "Zqq write error or disk full (#4.3.0)");
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
  sigaction(SIGPIPE, &old, nullptr);
}

}  // namespace
}  // namespace qng

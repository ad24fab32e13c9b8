// maildir_test.cc: unique names, maildirmake, and delivery bytes on disk.
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fd.h"
#include "maildir.h"

namespace qng {
namespace {

class MaildirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "qng-maildir-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    md_ = dir_ + "/Maildir";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::vector<std::string> entries(const std::string& d) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(d))
      out.push_back(e.path().filename().string());
    return out;
  }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // An unlinked temporary file holding `data`, its offset left at the end.
  Fd message(const std::string& data) {
    std::string path = dir_ + "/msg";
    auto fd = open_flags(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    EXPECT_TRUE(fd);
    EXPECT_TRUE(write_all(fd->get(), data));
    ::unlink(path.c_str());
    return std::move(*fd);
  }

  std::string dir_, md_;
};

TEST(Maildir, UniqueNameFormat) {
  const std::regex re(R"(^[0-9]+\.M[0-9]+P[0-9]+Q[0-9]+R[0-9a-f]{16}\.host\.example$)");
  std::string name = maildir_unique_name("host.example");
  EXPECT_TRUE(std::regex_match(name, re)) << name;
  EXPECT_NE(name.find("P" + std::to_string(::getpid()) + "Q"), std::string::npos) << name;
  long t = std::stol(name.substr(0, name.find('.')));
  EXPECT_LE(std::labs(t - static_cast<long>(::time(nullptr))), 5);
}

TEST(Maildir, UniqueNameEscapesTheHost) {
  struct Case { std::string host, want_tail; };
  const Case cases[] = {
      {"plain", ".plain"},
      {"a/b", ".a\\057b"},
      {"a:b", ".a\\072b"},
      {"/:x:/", ".\\057\\072x\\072\\057"},
      {"a\\057b", ".a\\057b"},  // an escape is not escaped again
  };
  for (const auto& c : cases) {
    std::string name = maildir_unique_name(c.host);
    ASSERT_GE(name.size(), c.want_tail.size());
    EXPECT_EQ(name.substr(name.size() - c.want_tail.size()), c.want_tail) << c.host;
    EXPECT_EQ(name.find('/'), std::string::npos) << name;
    EXPECT_EQ(name.find(':'), std::string::npos) << name;
  }
}

TEST(Maildir, UniqueNamesDoNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i) EXPECT_TRUE(seen.insert(maildir_unique_name("h")).second);
}

TEST(Maildir, HostnameIsEscaped) {
  std::string h = maildir_hostname();
  EXPECT_FALSE(h.empty());
  EXPECT_EQ(h.find('/'), std::string::npos);
  EXPECT_EQ(h.find(':'), std::string::npos);
}

TEST_F(MaildirTest, MakeCreatesThreeSubdirectories) {
  ASSERT_TRUE(maildir_make(md_));
  for (const char* sub : {"", "/tmp", "/new", "/cur"}) {
    struct stat st;
    ASSERT_EQ(::stat((md_ + sub).c_str(), &st), 0) << sub;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << sub;
    EXPECT_EQ(st.st_mode & 0077, 0u) << sub;  // 0700 less umask
  }
  auto again = maildir_make(md_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), EEXIST);
  auto nowhere = maildir_make(dir_ + "/no/such/Maildir");
  ASSERT_FALSE(nowhere);
  EXPECT_EQ(nowhere.error().code(), ENOENT);
}

TEST_F(MaildirTest, DeliverWritesPrefixAndWholeMessage) {
  ASSERT_TRUE(maildir_make(md_));
  std::string big;
  for (int i = 0; big.size() < 300000; ++i) big += "line " + std::to_string(i) + "\n";
  struct Case { std::string prefix, msg; };
  const Case cases[] = {
      {"Return-Path: <a@b>\nDelivered-To: u@x\n", "Subject: hi\n\nbody\n"},
      {"", "no prefix, no final newline"},
      {"Return-Path: <>\n", ""},
      {"", ""},
      {"P: 1\n", std::string("binary\0\r\n\xff", 11)},
      {"Delivered-To: big@x\n", big},
  };
  for (const auto& c : cases) {
    Fd msg = message(c.msg);
    off_t before = ::lseek(msg.get(), 0, SEEK_CUR);
    auto name = maildir_deliver(md_, msg.get(), c.prefix);
    ASSERT_TRUE(name) << name.error().message();
    EXPECT_EQ(name->find('/'), std::string::npos);
    EXPECT_EQ(slurp(md_ + "/new/" + *name), c.prefix + c.msg);
    EXPECT_EQ(::lseek(msg.get(), 0, SEEK_CUR), before);  // pread: offset untouched
    struct stat st;
    ASSERT_EQ(::stat((md_ + "/new/" + *name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_nlink, 1u);
    EXPECT_TRUE(entries(md_ + "/tmp").empty());
  }
  EXPECT_EQ(entries(md_ + "/new").size(), std::size(cases));
  EXPECT_TRUE(entries(md_ + "/cur").empty());
}

TEST_F(MaildirTest, ManyDeliveriesGetDistinctNames) {
  ASSERT_TRUE(maildir_make(md_));
  Fd msg = message("x\n");
  std::set<std::string> names;
  for (int i = 0; i < 50; ++i) {  // each one fsyncs twice: keep it small
    auto name = maildir_deliver(md_, msg.get(), "");
    ASSERT_TRUE(name) << name.error().message();
    EXPECT_TRUE(names.insert(*name).second) << *name;
  }
  EXPECT_EQ(entries(md_ + "/new").size(), 50u);
  EXPECT_TRUE(entries(md_ + "/tmp").empty());
}

TEST_F(MaildirTest, FailuresLeaveNoTmpFile) {
  ASSERT_TRUE(maildir_make(md_));
  // Not a maildir at all.
  Fd msg = message("x\n");
  auto none = maildir_deliver(dir_ + "/nothing", msg.get(), "P\n");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ENOENT);

  // Unseekable message: the prefix was written, then the read fails.
  Fd r, w;
  ASSERT_TRUE(make_pipe(r, w));
  ASSERT_TRUE(write_all(w.get(), "x\n"));
  auto pipe = maildir_deliver(md_, r.get(), "P\n");
  ASSERT_FALSE(pipe);
  EXPECT_EQ(pipe.error().code(), ESPIPE);
  EXPECT_TRUE(entries(md_ + "/tmp").empty());

  // Unreadable message descriptor.
  auto wronly = open_write(dir_ + "/wo", 0600);
  ASSERT_TRUE(wronly);
  auto bad = maildir_deliver(md_, wronly->get(), "P\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), EBADF);
  EXPECT_TRUE(entries(md_ + "/tmp").empty());

  // new/ missing: the link fails after the file was complete.
  ASSERT_EQ(::rmdir((md_ + "/new").c_str()), 0);
  auto nonew = maildir_deliver(md_, msg.get(), "P\n");
  ASSERT_FALSE(nonew);
  EXPECT_EQ(nonew.error().code(), ENOENT);
  EXPECT_TRUE(entries(md_ + "/tmp").empty());
}

}  // namespace
}  // namespace qng

// maildir_list_test.cc: what qmail-pop3d lists of a Maildir, in which order,
// within which bound; tmp cleanup; UIDL names.
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "maildir_list.h"

namespace qng::pop3 {
namespace {

class MaildirList : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "qng-pop3list-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    for (const char* s : {"/tmp", "/new", "/cur"}) std::filesystem::create_directory(dir_ + s);
    now_ = std::time(nullptr);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A file with mtime (and atime) at now - age.
  void add(const std::string& rel, size_t size, time_t age) {
    std::ofstream(dir_ + "/" + rel, std::ios::binary) << std::string(size, 'x');
    timeval tv[2] = {{now_ - age, 0}, {now_ - age, 0}};
    ASSERT_EQ(::utimes((dir_ + "/" + rel).c_str(), tv), 0);
  }
  std::vector<std::string> names(size_t max = kMaxMessages) {
    auto got = list_maildir(dir_, now_, max);
    EXPECT_TRUE(got) << got.error().message();
    std::vector<std::string> out;
    if (got)
      for (const auto& m : *got) out.push_back(m.fn);
    return out;
  }

  std::string dir_;
  time_t now_;
};

TEST_F(MaildirList, OldestFirstSkippingDotsAndTheCurrentSecond) {
  add("new/c", 3, 10);
  add("cur/a:2,S", 5, 30);
  add("new/b", 1, 20);
  add("new/b2", 1, 20);   // same mtime: by name
  add("new/.hidden", 1, 40);
  add("new/now", 1, 0);   // delivered this second: next session
  add("new/future", 1, -100);
  std::filesystem::create_directory(dir_ + "/cur/subdir");
  EXPECT_EQ(names(), (std::vector<std::string>{"cur/a:2,S", "new/b", "new/b2", "new/c"}));
  auto got = list_maildir(dir_, now_);
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[0].size, 5u);
  EXPECT_FALSE((*got)[0].deleted);
}

TEST_F(MaildirList, KeepsTheOldestWithinTheBound) {
  for (int i = 0; i < 20; ++i) add("new/m" + std::to_string(100 + i), 1, 1000 - i * 10);
  EXPECT_EQ(names(3), (std::vector<std::string>{"new/m100", "new/m101", "new/m102"}));
  EXPECT_EQ(names(0), std::vector<std::string>{});
  EXPECT_EQ(names().size(), 20u);
}

TEST_F(MaildirList, MissingSubdirectoryIsAnError) {
  std::filesystem::remove(dir_ + "/cur");
  EXPECT_FALSE(list_maildir(dir_, now_));
}

TEST_F(MaildirList, CleansOldTmpFilesOnly) {
  add("tmp/old", 1, kTmpAge + 10);
  add("tmp/young", 1, kTmpAge - 100);
  add("tmp/.old", 1, kTmpAge + 10);
  clean_tmp(dir_, now_);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/tmp/old"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/tmp/young"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/tmp/.old"));
}

TEST(Pop3Uidl, UniqueName) {
  EXPECT_EQ(unique_name("new/123.P4.host"), "123.P4.host");
  EXPECT_EQ(unique_name("cur/123.P4.host:2,S"), "123.P4.host");
  EXPECT_EQ(unique_name("cur/x:1,y:z"), "x");
}

}  // namespace
}  // namespace qng::pop3

// atomic_test.cc: write_file_atomic and read_file.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "atomic.h"

namespace qng {
namespace {

class AtomicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "qng-atomic-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
  }
  static mode_t mode_of(const std::string& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 07777;
  }

  std::string dir_;
};

TEST_F(AtomicTest, WritesReplacesAndLeavesNoTmp) {
  const std::string path = dir_ + "/users.cdb";
  mode_t old_umask = ::umask(077);
  struct Case { std::string data; mode_t mode; };
  const Case cases[] = {
      {"first", 0644},
      {std::string("second\0with nul", 15), 0600},
      {"", 0640},
      {std::string(200000, 'z'), 0444},
  };
  for (const auto& c : cases) {
    auto s = write_file_atomic(path, c.data, c.mode);
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(slurp(path), c.data);
    EXPECT_EQ(mode_of(path), c.mode);  // exactly, whatever the umask
    EXPECT_FALSE(exists(path + ".tmp"));
  }
  ::umask(old_umask);
}

TEST_F(AtomicTest, StaleTmpIsReplacedNotFollowed) {
  const std::string path = dir_ + "/f";
  const std::string victim = dir_ + "/victim";
  std::ofstream(victim) << "keep";
  ASSERT_EQ(::symlink(victim.c_str(), (path + ".tmp").c_str()), 0);
  ASSERT_TRUE(write_file_atomic(path, "new", 0644));
  EXPECT_EQ(slurp(path), "new");
  EXPECT_EQ(slurp(victim), "keep");
  EXPECT_FALSE(exists(path + ".tmp"));
}

TEST_F(AtomicTest, FailureLeavesTargetUntouched) {
  // The target is a non-empty directory: rename fails after the tmp file
  // was written, which must then be gone.
  const std::string path = dir_ + "/d";
  ASSERT_EQ(::mkdir(path.c_str(), 0700), 0);
  std::ofstream(path + "/inside") << "x";
  auto s = write_file_atomic(path, "data", 0644);
  ASSERT_FALSE(s);
  EXPECT_FALSE(exists(path + ".tmp"));
  EXPECT_EQ(slurp(path + "/inside"), "x");

  auto nodir = write_file_atomic(dir_ + "/missing/f", "data", 0644);
  ASSERT_FALSE(nodir);
  EXPECT_EQ(nodir.error().code(), ENOENT);
}

TEST_F(AtomicTest, ReadFileCapped) {
  const std::string path = dir_ + "/r";
  std::ofstream(path, std::ios::binary) << "0123456789";
  struct Case { size_t cap; int err; };
  const Case cases[] = {{10, 0}, {11, 0}, {1 << 20, 0}, {9, E2BIG}, {0, E2BIG}};
  for (const auto& c : cases) {
    auto got = read_file(path, c.cap);
    if (c.err) {
      ASSERT_FALSE(got) << c.cap;
      EXPECT_EQ(got.error().code(), c.err);
    } else {
      ASSERT_TRUE(got) << c.cap;
      EXPECT_EQ(*got, "0123456789");
    }
  }
  std::ofstream(dir_ + "/empty");
  auto empty = read_file(dir_ + "/empty", 0);
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "");
  auto missing = read_file(dir_ + "/nope", 10);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
  // Files whose size stat does not know are capped while reading.
  auto proc = read_file("/proc/self/status", 10);
  ASSERT_FALSE(proc);
  EXPECT_EQ(proc.error().code(), E2BIG);
  auto whole = read_file("/proc/self/status", 1 << 20);
  ASSERT_TRUE(whole);
  EXPECT_NE(whole->find("Pid:"), std::string::npos);
}

}  // namespace
}  // namespace qng

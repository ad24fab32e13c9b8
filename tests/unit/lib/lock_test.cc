// lock_test.cc: flock locks across processes and descriptors, with timeouts.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "fd.h"
#include "lock.h"

namespace qng {
namespace {

class LockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "qng-lock-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/lock";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // A second, independent open file description: flock treats it as
  // another holder even within this process.
  Fd other() const {
    auto fd = open_read(path_);
    EXPECT_TRUE(fd);
    return fd ? std::move(*fd) : Fd();
  }
  static int wait_child(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
  }

  std::string dir_, path_;
};

TEST_F(LockTest, ChildCannotTakeAHeldLockWithoutWaiting) {
  auto held = lock_file(path_, 0644, false);
  ASSERT_TRUE(held) << held.error().message();
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);

  pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    // Child: 0 = refused with EWOULDBLOCK, as it must be.
    int fd = ::open(path_.c_str(), O_RDONLY);
    if (fd == -1) _exit(2);
    auto s = lock_exclusive(fd, false);
    if (s) _exit(3);
    if (s.error().code() != EWOULDBLOCK) _exit(4);
    if (!s.error().temporary()) _exit(5);
    auto f = lock_file(path_, 0644, false);
    if (f || f.error().code() != EWOULDBLOCK) _exit(6);
    _exit(0);
  }
  EXPECT_EQ(wait_child(pid), 0);

  held->reset();  // closing the descriptor releases the lock
  pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    auto f = lock_file(path_, 0644, false);
    _exit(f ? 0 : 1);
  }
  EXPECT_EQ(wait_child(pid), 0);
}

TEST_F(LockTest, TimeoutIsBounded) {
  auto held = lock_file(path_, 0600, true);
  ASSERT_TRUE(held);
  Fd fd = other();
  auto start = std::chrono::steady_clock::now();
  auto s = lock_exclusive(fd.get(), true, 1);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ETIMEDOUT);
  EXPECT_TRUE(s.error().temporary());
  EXPECT_GE(took, 0.99);
  EXPECT_LT(took, 5.0);
}

TEST_F(LockTest, TimedWaitGetsTheLockWhenReleased) {
  Fd r, w;
  ASSERT_TRUE(make_pipe(r, w));
  pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    r.reset();
    auto f = lock_file(path_, 0600, true);
    if (!f) _exit(1);
    if (!write_all(w.get(), "x")) _exit(2);
    ::usleep(200000);
    _exit(0);  // the lock goes with the process
  }
  w.reset();
  char c;
  auto n = read_some(r.get(), &c, 1);  // the child holds the lock now
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 1u);
  Fd fd = other();
  EXPECT_FALSE(lock_exclusive(fd.get(), false));
  auto s = lock_exclusive(fd.get(), true, 30);
  EXPECT_TRUE(s) << s.error().message();
  EXPECT_EQ(wait_child(pid), 0);
}

TEST_F(LockTest, SharedAndExclusive) {
  auto created = lock_file(path_, 0600, false);
  ASSERT_TRUE(created);
  ASSERT_TRUE(unlock(created->get()));
  Fd a = other(), b = other(), c = other();
  ASSERT_TRUE(lock_shared(a.get(), false));
  ASSERT_TRUE(lock_shared(b.get(), true));  // readers share
  auto ex = lock_exclusive(c.get(), false);
  ASSERT_FALSE(ex);
  EXPECT_EQ(ex.error().code(), EWOULDBLOCK);
  auto sh = lock_shared(c.get(), true);  // a waiting shared lock is fine too
  ASSERT_TRUE(sh);
  ASSERT_TRUE(unlock(c.get()));
  ASSERT_TRUE(unlock(a.get()));
  ASSERT_TRUE(unlock(b.get()));
  EXPECT_TRUE(lock_exclusive(c.get(), false));
  auto blocked = lock_shared(a.get(), false);
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().code(), EWOULDBLOCK);
  EXPECT_TRUE(lock_exclusive(c.get(), true));  // relocking our own lock works
}

TEST_F(LockTest, LockFileCreatesWithMode) {
  mode_t old = ::umask(0);
  auto f = lock_file(path_, 0640, true);
  ::umask(old);
  ASSERT_TRUE(f);
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  auto bad = lock_file(dir_ + "/missing/lock", 0600, true);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ENOENT);
  auto notfd = lock_exclusive(-1, false);
  ASSERT_FALSE(notfd);
  EXPECT_EQ(notfd.error().code(), EBADF);
}

}  // namespace
}  // namespace qng

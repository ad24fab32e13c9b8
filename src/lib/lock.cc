// lock.cc: flock(2) locks, with a bounded wait by polling.
#include "lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <ctime>

namespace qng {
namespace {

Status do_flock(int fd, int op, const char* what) {
  for (;;) {
    if (::flock(fd, op) == 0) return {};
    if (errno != EINTR) return Error::last(what);
  }
}

double now_s() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void sleep_s(double s) {
  struct timespec ts {};
  ts.tv_sec = static_cast<time_t>(s);
  ts.tv_nsec = static_cast<long>((s - static_cast<double>(ts.tv_sec)) * 1e9);
  while (::nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

// No alarm: polling with LOCK_NB keeps signals out of a library call.
// Sleeps grow from 10 ms to 250 ms and never pass the deadline.
Status flock_until(int fd, int op, unsigned timeout_s, const char* what) {
  const double deadline = now_s() + timeout_s;
  double pause = 0.01;
  for (;;) {
    if (::flock(fd, op | LOCK_NB) == 0) return {};
    if (errno != EWOULDBLOCK && errno != EINTR) return Error::last(what);
    double left = deadline - now_s();
    if (left <= 0) return Error::sys(ETIMEDOUT, what);
    sleep_s(pause < left ? pause : left);
    if (pause < 0.25) pause *= 2;
  }
}

}  // namespace

Status lock_exclusive(int fd, bool wait, unsigned timeout_s) {
  const char* what = "unable to lock";
  if (!wait) return do_flock(fd, LOCK_EX | LOCK_NB, what);
  if (timeout_s > 0) return flock_until(fd, LOCK_EX, timeout_s, what);
  return do_flock(fd, LOCK_EX, what);
}

Status lock_shared(int fd, bool wait) {
  return do_flock(fd, wait ? LOCK_SH : LOCK_SH | LOCK_NB, "unable to lock");
}

Status unlock(int fd) { return do_flock(fd, LOCK_UN, "unable to unlock"); }

Result<Fd> lock_file(const std::string& path, mode_t mode, bool wait) {
  // Read-only is enough for flock, and works on a lock file we may not write.
  auto fd = open_flags(path, O_RDONLY | O_CREAT | O_NOCTTY, mode);
  if (!fd) return fd.error();
  if (auto s = lock_exclusive(fd->get(), wait); !s)
    return Error::sys(s.error().code(), "unable to lock " + path);
  return std::move(*fd);
}

}  // namespace qng

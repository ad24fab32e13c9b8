// fd.cc: descriptor ownership and EINTR-safe system call wrappers.
#include "fd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace qng {

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);  // Linux closes even on EINTR: never retry
  fd_ = fd;
}

Status Fd::close() {
  if (fd_ < 0) return {};
  int fd = release();
  if (::close(fd) == -1 && errno != EINTR) return Error::last("unable to close file");
  return {};
}

Result<Fd> open_flags(const std::string& path, int flags, mode_t mode) {
  for (;;) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0) return Fd(fd);
    if (errno != EINTR) return Error::last("unable to open " + path);
  }
}

Result<Fd> open_read(const std::string& path) {
  return open_flags(path, O_RDONLY | O_NOCTTY);
}
Result<Fd> open_write(const std::string& path, mode_t mode) {
  return open_flags(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY, mode);
}
Result<Fd> open_excl(const std::string& path, mode_t mode) {
  return open_flags(path, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY, mode);
}
Result<Fd> open_append(const std::string& path, mode_t mode) {
  return open_flags(path, O_WRONLY | O_CREAT | O_APPEND | O_NOCTTY, mode);
}
Result<Fd> open_dir(const std::string& path) {
  return open_flags(path, O_RDONLY | O_DIRECTORY);
}

Result<size_t> read_some(int fd, char* buf, size_t n) {
  for (;;) {
    ssize_t r = ::read(fd, buf, n);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EINTR) return Error::last("unable to read");
  }
}

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return Error::last("unable to write");
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return {};
}

Status fsync_fd(int fd, std::string_view what) {
  for (;;) {
    if (::fsync(fd) == 0) return {};
    if (errno != EINTR) return Error::last("unable to fsync " + std::string(what));
  }
}

Status fsync_dir(const std::string& dir) {
  auto d = open_dir(dir);
  if (!d) return d.error();
  return fsync_fd(d->get(), dir);
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status make_pipe(Fd& read_end, Fd& write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) == -1) return Error::last("unable to create pipe");
  read_end.reset(p[0]);
  write_end.reset(p[1]);
  return {};
}

Status ensure_std_fds() {
  for (int want = 0; want <= 2; ++want) {
    if (::fcntl(want, F_GETFD) != -1) continue;
    int fd = ::open("/dev/null", O_RDWR);
    if (fd == -1) return Error::last("unable to open /dev/null");
    if (fd != want) {  // lower descriptors are open, so fd == want here
      ::close(fd);
      return Error::temp("unable to reopen standard descriptors");
    }
  }
  return {};
}

}  // namespace qng

// fd.h: Fd owns one descriptor; EINTR-safe wrappers for the calls around it.
//
// Every wrapper retries EINTR, so callers never see it. Fd closes itself;
// close() is offered for files we wrote, whose close must be checked.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "result.h"

namespace qng {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);  // closes the old one, ignoring errors
  Status close();           // closes and reports, for files we wrote

 private:
  int fd_ = -1;
};

// open(2) wrappers; every descriptor is O_CLOEXEC unless said otherwise.
Result<Fd> open_read(const std::string& path);
Result<Fd> open_write(const std::string& path, mode_t mode);   // O_CREAT|O_TRUNC
Result<Fd> open_excl(const std::string& path, mode_t mode);    // O_CREAT|O_EXCL
Result<Fd> open_append(const std::string& path, mode_t mode);  // O_CREAT|O_APPEND
Result<Fd> open_dir(const std::string& path);                  // O_DIRECTORY
Result<Fd> open_flags(const std::string& path, int flags, mode_t mode = 0);

// read(2)/write(2) with EINTR retried. read_some returns 0 at end of file.
Result<size_t> read_some(int fd, char* buf, size_t n);
Status write_all(int fd, std::string_view data);

// Durability: fsync a descriptor, or a directory by path so that a link,
// rename or unlink in it is on disk.
Status fsync_fd(int fd, std::string_view what);
Status fsync_dir(const std::string& dir);
// The directory part of a path ("." when it has none).
std::string dir_of(const std::string& path);

// pipe2 with O_CLOEXEC.
Status make_pipe(Fd& read_end, Fd& write_end);

// Makes sure descriptors 0, 1 and 2 are open (on /dev/null if not), as a
// privileged program must before it opens anything else.
Status ensure_std_fds();

}  // namespace qng

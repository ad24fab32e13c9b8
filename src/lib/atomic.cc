// atomic.cc: replace a file atomically and durably; read a whole file capped.
#include "atomic.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "fd.h"

namespace qng {

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  const std::string tmp = path + ".tmp";
  // A stale tmp file from a crash must not block us forever; O_EXCL below
  // then makes sure we write a file of our own, not someone's symlink.
  if (::unlink(tmp.c_str()) == -1 && errno != ENOENT)
    return Error::last("unable to remove " + tmp);
  auto fd = open_excl(tmp, mode);
  if (!fd) return fd.error();
  auto fail = [&tmp](Error e) -> Status {
    ::unlink(tmp.c_str());
    return e;
  };
  // The mode asked for, whatever the umask.
  if (::fchmod(fd->get(), mode) == -1) return fail(Error::last("unable to chmod " + tmp));
  if (auto s = write_all(fd->get(), data); !s)
    return fail(Error::sys(s.error().code(), "unable to write " + tmp));
  if (auto s = fsync_fd(fd->get(), tmp); !s) return fail(s.error());
  if (auto s = fd->close(); !s)
    return fail(Error::sys(s.error().code(), "unable to close " + tmp));
  if (::rename(tmp.c_str(), path.c_str()) == -1)
    return fail(Error::last("unable to rename " + tmp + " to " + path));
  return fsync_dir(dir_of(path));
}

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
  auto fd = open_read(path);
  if (!fd) return fd.error();
  std::string data;
  struct stat st;
  if (::fstat(fd->get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    if (static_cast<uint64_t>(st.st_size) > max_bytes)
      return Error::perm(path + " is larger than " + std::to_string(max_bytes) + " bytes",
                         E2BIG);
    data.reserve(static_cast<size_t>(st.st_size));
  }
  char buf[16384];
  for (;;) {
    auto n = read_some(fd->get(), buf, sizeof buf);
    if (!n) return Error::sys(n.error().code(), "unable to read " + path);
    if (*n == 0) break;
    // The file may grow while we read it: the cap holds on what we got.
    if (*n > max_bytes - data.size())
      return Error::perm(path + " is larger than " + std::to_string(max_bytes) + " bytes",
                         E2BIG);
    data.append(buf, *n);
  }
  return data;
}

}  // namespace qng

// maildir.cc: unique names, maildirmake, and the tmp/ -> new/ delivery.
#include "maildir.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>

#include "fd.h"

namespace qng {
namespace {

constexpr int kCreateTries = 4;  // the first try and 3 retries on a clash
constexpr size_t kCopyBuffer = 65536;

std::atomic<uint64_t> g_deliveries{0};

// '/' and ':' may not appear in a maildir name (cr.yp.to/proto/maildir.html).
std::string escape_host(std::string_view host) {
  std::string out;
  out.reserve(host.size());
  for (char c : host) {
    if (c == '/')
      out += "\\057";
    else if (c == ':')
      out += "\\072";
    else
      out.push_back(c);
  }
  return out;
}

uint64_t random64() {
  uint64_t r = 0;
  auto* p = reinterpret_cast<unsigned char*>(&r);
  size_t got = 0;
  while (got < sizeof r) {
    ssize_t n = ::getrandom(p + got, sizeof r - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n == -1 && errno != EINTR) {
      break;
    }
  }
  if (got < sizeof r) {
    // No kernel randomness: the other parts still make the name unique
    // within this host; mix in what varies anyway.
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    r ^= static_cast<uint64_t>(ts.tv_nsec) * 0x9e3779b97f4a7c15ULL ^
         static_cast<uint64_t>(ts.tv_sec) ^ reinterpret_cast<uintptr_t>(&r);
  }
  return r;
}

// Copies all of fd, from offset 0, to out with pread (the file offset of a
// descriptor shared with the caller stays where it was).
Status copy_from_start(int fd, int out, const std::string& what) {
  std::string buf(kCopyBuffer, '\0');
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), offset);
    if (n == -1) {
      if (errno == EINTR) continue;
      return Error::last("unable to read message");
    }
    if (n == 0) return {};
    if (auto s = write_all(out, std::string_view(buf.data(), static_cast<size_t>(n))); !s)
      return Error::sys(s.error().code(), "unable to write " + what);
    offset += n;
  }
}

}  // namespace

std::string maildir_unique_name(std::string_view hostname) {
  struct timeval tv {};
  ::gettimeofday(&tv, nullptr);
  uint64_t count = g_deliveries.fetch_add(1, std::memory_order_relaxed);
  char buf[128];
  std::snprintf(buf, sizeof buf, "%lld.M%ldP%ldQ%lluR%016llx.",
                static_cast<long long>(tv.tv_sec), static_cast<long>(tv.tv_usec),
                static_cast<long>(::getpid()), static_cast<unsigned long long>(count),
                static_cast<unsigned long long>(random64()));
  return buf + escape_host(hostname);
}

std::string maildir_hostname() {
  char buf[256 + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) == -1 || buf[0] == '\0') return "localhost";
  return escape_host(buf);
}

Status maildir_make(const std::string& dir) {
  for (const std::string& d : {dir, dir + "/tmp", dir + "/new", dir + "/cur"})
    if (::mkdir(d.c_str(), 0700) == -1) return Error::last("unable to mkdir " + d);
  return {};
}

Result<std::string> maildir_deliver(const std::string& dir, int msg_fd,
                                    std::string_view prefix) {
  const std::string host = maildir_hostname();
  std::string name, tmp;
  Fd fd;
  for (int tries = 0;; ++tries) {
    name = maildir_unique_name(host);
    tmp = dir + "/tmp/" + name;
    auto opened = open_excl(tmp, 0600);
    if (opened) {
      fd = std::move(*opened);
      break;
    }
    if (opened.error().code() != EEXIST || tries + 1 >= kCreateTries) return opened.error();
  }

  auto fail = [&tmp](Error e) -> Result<std::string> {
    ::unlink(tmp.c_str());
    return e;
  };
  if (auto s = write_all(fd.get(), prefix); !s)
    return fail(Error::sys(s.error().code(), "unable to write " + tmp));
  if (auto s = copy_from_start(msg_fd, fd.get(), tmp); !s) return fail(s.error());
  if (auto s = fsync_fd(fd.get(), tmp); !s) return fail(s.error());
  if (auto s = fd.close(); !s) return fail(Error::sys(s.error().code(), "unable to close " + tmp));

  const std::string fresh = dir + "/new/" + name;
  if (::link(tmp.c_str(), fresh.c_str()) == -1)
    return fail(Error::last("unable to link " + tmp + " to " + fresh));
  // The message is in new/ now; a tmp name left behind is only litter,
  // which readers remove after 36 hours.
  ::unlink(tmp.c_str());
  if (auto s = fsync_dir(dir + "/new"); !s) {
    // Not known to be on disk: take it back, so that the retry the caller
    // will make is the only copy.
    ::unlink(fresh.c_str());
    return s.error();
  }
  return name;
}

}  // namespace qng

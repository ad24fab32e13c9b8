// qmqpc.cc: qmail-qmqpc's parts (qmqpc.h).
#include "qmqpc.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <new>

#include "instance.h"
#include "netstring.h"
#include "size.h"

namespace qng::qmqpc {

namespace {

std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The parent of a directory path ("/a/bin" -> "/a", "/bin" -> "/").
std::string parent_dir(const std::string& dir) {
  size_t slash = dir.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : dir.substr(0, slash);
}

std::optional<std::string> real_dir(const std::string& path) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return std::nullopt;
  return std::string(buf);
}

bool exe_named_qmail_queue() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return false;
  return base_name(std::string_view(buf, static_cast<size_t>(n))) == "qmail-queue";
}

}  // namespace

std::string choose_home(std::string_view argv0) {
  if (base_name(argv0) != "qmail-queue") return home_trusting_env();
  // A copy installed as DIR/bin/qmail-queue: our own location names DIR.
  if (exe_named_qmail_queue()) {
    if (auto h = home_from_exe()) return *h;
  }
  // A symbolic link DIR/bin/qmail-queue -> qmail-qmqpc elsewhere: the path
  // the caller ran us by (qmail's callers run DIR/bin/qmail-queue).
  size_t slash = argv0.rfind('/');
  if (slash != std::string_view::npos) {
    std::string bindir(argv0.substr(0, slash == 0 ? 1 : slash));
    if (auto real = real_dir(bindir)) return parent_dir(*real);
  }
  if (auto h = home_from_exe()) return *h;
  return kSystemHome;
}

// --- Spool ---

int Spool::load(int fd) {
  std::string chunk(65536, '\0');
  for (;;) {
    auto r = read_some(fd, chunk.data(), chunk.size());
    if (!r) return r.error().code() == ENOMEM ? kNoMem : kReadError;
    if (*r == 0) return kOk;
    std::string_view piece(chunk.data(), *r);
    auto total = checked_add(size_, piece.size());
    if (!total) return kNoMem;
    if (!file_ && *total > kSpillBytes) {
      if (int code = spill(); code != kOk) return code;
    }
    if (file_) {
      if (!write_all(file_.get(), piece)) return kWriteError;
    } else {
      mem_.append(piece);
    }
    size_ = *total;
  }
}

int Spool::spill() {
  const char* env = std::getenv("TMPDIR");
  std::string dir = env && env[0] == '/' ? env : "/tmp";
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd == -1) {
    // No O_TMPFILE here: a named file, unlinked at once.
    std::string name = dir + "/qmail-qmqpc.XXXXXX";
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd == -1) return kWriteError;
    ::unlink(name.c_str());
  }
  file_.reset(fd);
  if (!write_all(file_.get(), mem_)) return kWriteError;
  mem_.clear();
  mem_.shrink_to_fit();
  return kOk;
}

Status Spool::write_to(Writer& w) const {
  if (!file_) {
    w.put(mem_);
    return {};
  }
  std::string chunk(65536, '\0');
  uint64_t off = 0;
  while (off < size_) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(size_ - off, chunk.size()));
    ssize_t n = ::pread(file_.get(), chunk.data(), want, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::last("unable to read the spooled message");
    if (n == 0) return Error::temp("spooled message shrank", EIO);
    w.put(std::string_view(chunk.data(), static_cast<size_t>(n)));
    off += static_cast<uint64_t>(n);
  }
  return {};
}

// --- Envelope ---

int read_envelope(Reader& in, std::string& out) {
  out.clear();
  std::string rec;
  // A record: type byte, address, NUL.
  constexpr size_t kMaxRecord = kMaxQueueAddress + 2;
  for (bool first = true;; first = false) {
    auto r = in.read_line(rec, kMaxRecord, '\0');
    if (!r) return r.error().code() == E2BIG ? kTooLong : kReadError;
    if (!*r || rec.back() != '\0') return kFormat;  // end of input before the final NUL
    if (!first && rec.size() == 1) return kOk;       // the empty record ends it
    if (rec.size() < 2 || rec[0] != (first ? 'F' : 'T')) return kFormat;
    std::string_view address(rec.data() + 1, rec.size() - 2);
    if (!fits(out.size(), address.size() + 24, kMaxEnvelope)) return kNoMem;
    append_netstring(out, address);
  }
}

// --- One server ---

int try_server(const ServerAddress& server, const Spool& message, const std::string& envelope,
               int& lasterror) {
  Fd fd(::socket(server.ip.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return kSocket;
  sockaddr_storage sa;
  socklen_t len = to_sockaddr(server.ip, server.port, sa);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) == -1) {
    if (errno != EINPROGRESS && errno != EINTR) {
      lasterror = errno == ETIMEDOUT ? kTimeout : kRefused;
      return -1;
    }
    if (auto w = wait_fd(fd.get(), POLLOUT, kConnectSeconds * 1000); !w) {
      lasterror = w.error().code() == ETIMEDOUT ? kTimeout : kRefused;
      return -1;
    }
    int err = 0;
    socklen_t elen = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &elen) == -1) err = errno;
    if (err != 0) {
      lasterror = err == ETIMEDOUT ? kTimeout : kRefused;
      return -1;
    }
  }

  auto head = qmqp_head(message.size(), envelope.size());
  if (!head) return kNoMem;
  Writer w(fd.get(), kIoSeconds * 1000, 65536);
  w.put(*head);
  if (!message.write_to(w)) return kReadError;
  w.put(",");
  w.put(envelope);
  w.put(",");
  if (!w.flush()) return kConn;

  Reader r(fd.get(), kIoSeconds * 1000);
  auto reply = read_reply(r);
  if (!reply) return kConn;
  switch (reply->code) {
    case 'K': return kOk;
    case 'D': return kPerm;
    default: return kTemp;
  }
}

}  // namespace qng::qmqpc

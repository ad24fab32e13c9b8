// connect.cc: timeoutconnect (connect.h).
#include "connect.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "io.h"

namespace qng::remote {

Result<Fd> timeout_connect(const IpAddress& ip, uint16_t port, unsigned timeout_s,
                           const std::optional<IpAddress>& source) {
  Fd fd(::socket(ip.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return Error::last("socket");
  if (source) {
    sockaddr_storage sa;
    socklen_t len = to_sockaddr(*source, 0, sa);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) == -1)
      return Error::last("bind");
  }
  sockaddr_storage sa;
  socklen_t len = to_sockaddr(ip, port, sa);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) == 0) return fd;
  if (errno != EINPROGRESS && errno != EINTR) return Error::last("connect");
  if (auto s = wait_fd(fd.get(), POLLOUT, static_cast<int>(timeout_s) * 1000); !s)
    return s.error();
  int err = 0;
  socklen_t elen = sizeof err;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
    return Error::last("connect");
  if (err != 0) return Error::sys(err, "connect");
  return fd;
}

}  // namespace qng::remote

// relay.cc: the TLS <-> child relay, one poll loop over non-blocking
// descriptors.
#include "relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace qng::pop3 {
namespace {

constexpr size_t kCap = 64 * 1024;    // per direction
constexpr size_t kChunk = 16 * 1024;  // one TLS record's worth

}  // namespace

void relay(TlsServer& tls, int child_fd, std::string to_child, int timeout_ms) {
  int flags = ::fcntl(child_fd, F_GETFL);
  if (flags == -1 || ::fcntl(child_fd, F_SETFL, flags | O_NONBLOCK) == -1) return;

  std::string to_net;
  bool net_eof = false;    // the client sent close_notify or hung up
  bool child_eof = false;  // the child closed its end
  bool child_shut = false;
  char buf[kChunk];
  using Io = TlsServer::Io;

  for (;;) {
    short net_in = 0, net_out = 0, child_events = 0;
    bool progress = true;
    while (progress) {
      progress = false;
      if (!net_eof && to_child.size() < kCap) {
        size_t n = 0;
        switch (tls.read(buf, std::min(sizeof buf, kCap - to_child.size()), &n)) {
          case Io::kDone:
            to_child.append(buf, n);
            progress = true;
            break;
          case Io::kEof:
            net_eof = true;
            progress = true;
            break;
          case Io::kWantRead:
            net_in = POLLIN;
            break;
          case Io::kWantWrite:
            net_out = POLLOUT;
            break;
          case Io::kFail:
            return;
        }
      }
      if (!to_net.empty()) {
        size_t n = 0;
        // Never fewer bytes than a retried write had: to_net only grows
        // until the write succeeds, and kChunk caps both.
        switch (tls.write(to_net.data(), std::min(to_net.size(), kChunk), &n)) {
          case Io::kDone:
            to_net.erase(0, n);
            progress = true;
            break;
          case Io::kWantRead:
            net_in = POLLIN;
            break;
          case Io::kWantWrite:
            net_out = POLLOUT;
            break;
          case Io::kEof:
          case Io::kFail:
            return;
        }
      }
      if (!to_child.empty()) {
        ssize_t n = ::write(child_fd, to_child.data(), to_child.size());
        if (n > 0) {
          to_child.erase(0, static_cast<size_t>(n));
          progress = true;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
          child_events |= POLLOUT;
        } else {
          to_child.clear();  // the child stopped reading: it is leaving
        }
      }
      if (net_eof && to_child.empty() && !child_shut) {
        ::shutdown(child_fd, SHUT_WR);
        child_shut = true;
      }
      if (!child_eof && to_net.size() < kCap) {
        ssize_t n = ::read(child_fd, buf, std::min(sizeof buf, kCap - to_net.size()));
        if (n > 0) {
          to_net.append(buf, static_cast<size_t>(n));
          progress = true;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
          child_events |= POLLIN;
        } else {
          child_eof = true;
          progress = true;
        }
      }
    }
    if (child_eof && to_net.empty()) return;

    pollfd fds[3];
    nfds_t count = 0;
    if (tls.rfd() == tls.wfd()) {
      short events = static_cast<short>(net_in | net_out);
      fds[count++] = {events ? tls.rfd() : -1, events, 0};  // -1: no busy wake on a hangup
    } else {
      fds[count++] = {net_in ? tls.rfd() : -1, net_in, 0};
      fds[count++] = {net_out ? tls.wfd() : -1, net_out, 0};
    }
    fds[count++] = {child_events ? child_fd : -1, child_events, 0};
    int r = ::poll(fds, count, timeout_ms > 0 ? timeout_ms : -1);
    if (r == 0) return;  // nothing moved for the whole timeout
    if (r < 0 && errno != EINTR) return;
  }
}

}  // namespace qng::pop3

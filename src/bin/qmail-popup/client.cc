// client.cc: line reading and writing on the plain or TLS connection.
#include "client.h"

#include <poll.h>

#include <cerrno>

#include "fd.h"

namespace qng::pop3 {

Client::Client(int in_fd, int out_fd, int timeout_ms)
    : in_fd_(in_fd), out_fd_(out_fd), timeout_ms_(timeout_ms), out_(out_fd, timeout_ms) {}

Result<bool> Client::read_line(std::string& line, size_t max) {
  line.clear();
  for (;;) {
    size_t nl = pending_.find('\n');
    if (nl != std::string::npos) {
      if (nl + 1 > max) return Error::perm("line too long", E2BIG);
      line = pending_.substr(0, nl + 1);
      pending_.erase(0, nl + 1);
      return true;
    }
    if (pending_.size() >= max) return Error::perm("line too long", E2BIG);
    char buf[4096];
    size_t n = 0;
    if (tls_) {
      auto r = tls_->read_wait(buf, sizeof buf, timeout_ms_);
      if (!r) return r.error();
      n = *r;
    } else {
      if (auto w = wait_fd(in_fd_, POLLIN, timeout_ms_); !w) return w.error();
      auto r = read_some(in_fd_, buf, 1);
      if (!r) return r.error();
      n = *r;
    }
    if (n == 0) return false;
    pending_.append(buf, n);
  }
}

Status Client::send(std::string_view text) {
  if (tls_) return tls_->write_wait(text, timeout_ms_);
  out_.put(text);
  return out_.flush();
}

Status Client::start_tls(std::unique_ptr<TlsServer> tls) {
  pending_.clear();
  if (auto h = tls->handshake(in_fd_, out_fd_, timeout_ms_); !h) return h;
  tls_ = std::move(tls);
  return {};
}

std::string Client::take_pending() {
  std::string p = std::move(pending_);
  pending_.clear();
  return p;
}

}  // namespace qng::pop3

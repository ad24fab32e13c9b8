// channel.cc: the SMTP connection (channel.h).
#include "channel.h"

#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "io.h"

namespace qng::remote {

namespace {
constexpr size_t kReadChunk = 16384;
}  // namespace

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

Channel::~Channel() {
  if (ssl_) SSL_free(ssl_);
}

Status Channel::wait_tls(int ssl_error, const char* what) {
  if (ssl_error == SSL_ERROR_WANT_READ) return wait_fd(fd_.get(), POLLIN, timeout_ms_);
  if (ssl_error == SSL_ERROR_WANT_WRITE) return wait_fd(fd_.get(), POLLOUT, timeout_ms_);
  if (ssl_error == SSL_ERROR_ZERO_RETURN) return Error::temp(what, EPIPE);
  if (ssl_error == SSL_ERROR_SYSCALL) {
    int e = errno;
    std::string why = openssl_errors();
    if (!why.empty()) return Error::temp(std::string(what) + ": " + why);
    return Error::temp(what, e != 0 ? e : EPIPE);
  }
  std::string why = openssl_errors();
  return Error::temp(std::string(what) + (why.empty() ? "" : ": " + why));
}

Result<size_t> Channel::read_some(char* buf, size_t n) {
  for (;;) {
    if (ssl_) {
      size_t got = 0;
      ERR_clear_error();
      if (SSL_read_ex(ssl_, buf, n, &got) == 1) return got;
      int err = SSL_get_error(ssl_, 0);
      if (err == SSL_ERROR_ZERO_RETURN) return size_t{0};
      if (auto s = wait_tls(err, "TLS read"); !s) return s.error();
      continue;
    }
    ssize_t r = ::read(fd_.get(), buf, n);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Error::last("read");
    if (auto s = wait_fd(fd_.get(), POLLIN, timeout_ms_); !s) return s.error();
  }
}

Result<size_t> Channel::write_some(const char* buf, size_t n) {
  for (;;) {
    if (ssl_) {
      size_t done = 0;
      ERR_clear_error();
      if (SSL_write_ex(ssl_, buf, n, &done) == 1) return done;
      int err = SSL_get_error(ssl_, 0);
      if (auto s = wait_tls(err, "TLS write"); !s) return s.error();
      continue;
    }
    ssize_t w = ::send(fd_.get(), buf, n, MSG_NOSIGNAL);
    if (w >= 0) return static_cast<size_t>(w);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Error::last("write");
    if (auto s = wait_fd(fd_.get(), POLLOUT, timeout_ms_); !s) return s.error();
  }
}

Status Channel::flush() {
  size_t done = 0;
  while (done < out_.size()) {
    auto w = write_some(out_.data() + done, out_.size() - done);
    if (!w) {
      out_.clear();
      return w.error();
    }
    if (*w == 0) {
      out_.clear();
      return Error::temp("write", EPIPE);
    }
    done += *w;
  }
  out_.clear();
  return {};
}

Status Channel::fill() {
  in_.clear();
  in_pos_ = 0;
  in_.resize(kReadChunk);
  auto r = read_some(in_.data(), in_.size());
  if (!r) {
    in_.clear();
    return r.error();
  }
  in_.resize(*r);
  if (*r == 0) return Error::temp("end of stream", EPIPE);
  return {};
}

Status Channel::read_line(std::string& line, size_t max) {
  line.clear();
  for (;;) {
    while (in_pos_ < in_.size()) {
      char c = in_[in_pos_++];
      line.push_back(c);
      if (c == '\n') return {};
      if (line.size() >= max) return Error::perm("reply line too long", E2BIG);
    }
    if (auto s = fill(); !s) return s;
  }
}

Status Channel::read_exact(std::string& out, size_t n) {
  while (n > 0) {
    if (in_pos_ == in_.size())
      if (auto s = fill(); !s) return s;
    size_t take = std::min(n, in_.size() - in_pos_);
    out.append(in_, in_pos_, take);
    in_pos_ += take;
    n -= take;
  }
  return {};
}

Status Channel::start_tls(SSL* ssl) {
  ssl_ = ssl;
  for (;;) {
    ERR_clear_error();
    int r = SSL_connect(ssl_);
    if (r == 1) return {};
    int err = SSL_get_error(ssl_, r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      // The certificate check's own words are clearer than the alert's.
      long v = SSL_get_verify_result(ssl_);
      if (v != X509_V_OK) {
        (void)openssl_errors();
        return Error::temp(std::string("certificate not accepted: ") +
                           X509_verify_cert_error_string(v));
      }
      return wait_tls(err, "TLS handshake failed");
    }
    if (auto s = wait_tls(err, "TLS handshake"); !s) return s.error();
  }
}

}  // namespace qng::remote

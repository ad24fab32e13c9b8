// tls.cc: OpenSSL server connections with poll-driven, timed steps.
#include "tls.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "io.h"

namespace qng::pop3 {
namespace {

std::string openssl_error(const char* what) {
  std::string s = what;
  unsigned long e = ERR_get_error();
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    s += ": ";
    s += buf;
  }
  ERR_clear_error();
  return s;
}

Status set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags == -1 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
    return Error::last("unable to make descriptor non-blocking");
  return {};
}

int clamp(size_t len) { return static_cast<int>(std::min<size_t>(len, INT_MAX)); }

}  // namespace

Result<std::unique_ptr<TlsServer>> TlsServer::load(const std::string& pem) {
  std::unique_ptr<TlsServer> t(new TlsServer);
  t->ctx_ = SSL_CTX_new(TLS_server_method());
  if (!t->ctx_) return Error::temp(openssl_error("unable to make a TLS context"));
  SSL_CTX_set_min_proto_version(t->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_options(t->ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                   SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(t->ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(t->ctx_, pem.c_str()) != 1)
    return Error::temp(openssl_error(("unable to load the certificate " + pem).c_str()));
  if (SSL_CTX_use_PrivateKey_file(t->ctx_, pem.c_str(), SSL_FILETYPE_PEM) != 1)
    return Error::temp(openssl_error(("unable to load the key " + pem).c_str()));
  if (SSL_CTX_check_private_key(t->ctx_) != 1)
    return Error::temp(openssl_error(("key and certificate do not match in " + pem).c_str()));
  t->ssl_ = SSL_new(t->ctx_);
  if (!t->ssl_) return Error::temp(openssl_error("unable to make a TLS connection"));
  return t;
}

TlsServer::~TlsServer() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
}

std::string TlsServer::last_error() const { return error_; }

TlsServer::Io TlsServer::step(int r, size_t* n) {
  if (r > 0) {
    if (n) *n = static_cast<size_t>(r);
    return Io::kDone;
  }
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
      return Io::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Io::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return Io::kEof;
    case SSL_ERROR_SYSCALL:
      if (errno == EINTR) return Io::kWantRead;
      error_ = openssl_error("TLS connection broken");
      return errno == 0 ? Io::kEof : Io::kFail;
    default:
      error_ = openssl_error("TLS error");
      return Io::kFail;
  }
}

Status TlsServer::wait(Io io, int timeout_ms) {
  if (io == Io::kWantRead) return wait_fd(rfd_, POLLIN, timeout_ms);
  return wait_fd(wfd_, POLLOUT, timeout_ms);
}

Status TlsServer::handshake(int rfd, int wfd, int timeout_ms) {
  rfd_ = rfd;
  wfd_ = wfd;
  if (auto s = set_nonblocking(rfd); !s) return s;
  if (wfd != rfd)
    if (auto s = set_nonblocking(wfd); !s) return s;
  if (SSL_set_rfd(ssl_, rfd) != 1 || SSL_set_wfd(ssl_, wfd) != 1)
    return Error::temp(openssl_error("unable to attach TLS to the connection"));
  for (;;) {
    ERR_clear_error();
    Io io = step(SSL_accept(ssl_), nullptr);
    if (io == Io::kDone) return {};
    if (io == Io::kEof || io == Io::kFail) {
      if (error_.empty()) error_ = "TLS handshake failed";
      return Error::temp(error_);
    }
    if (auto w = wait(io, timeout_ms); !w) return w;
  }
}

TlsServer::Io TlsServer::read(char* buf, size_t len, size_t* n) {
  ERR_clear_error();
  errno = 0;
  return step(SSL_read(ssl_, buf, clamp(len)), n);
}

TlsServer::Io TlsServer::write(const char* buf, size_t len, size_t* n) {
  ERR_clear_error();
  errno = 0;
  return step(SSL_write(ssl_, buf, clamp(len)), n);
}

Result<size_t> TlsServer::read_wait(char* buf, size_t len, int timeout_ms) {
  for (;;) {
    size_t n = 0;
    Io io = read(buf, len, &n);
    if (io == Io::kDone) return n;
    if (io == Io::kEof) return size_t{0};
    if (io == Io::kFail) return Error::temp(error_);
    if (auto w = wait(io, timeout_ms); !w) return w.error();
  }
}

Status TlsServer::write_wait(std::string_view data, int timeout_ms) {
  while (!data.empty()) {
    size_t n = 0;
    Io io = write(data.data(), data.size(), &n);
    if (io == Io::kDone) {
      data.remove_prefix(n);
      continue;
    }
    if (io == Io::kEof) return Error::sys(EPIPE, "TLS connection closed");
    if (io == Io::kFail) return Error::temp(error_);
    if (auto w = wait(io, timeout_ms); !w) return w;
  }
  return {};
}

void TlsServer::close_notify(int timeout_ms) {
  for (int tries = 0; tries < 4; ++tries) {
    ERR_clear_error();
    int r = SSL_shutdown(ssl_);
    if (r >= 0) return;  // ours is sent; no need to wait for theirs
    Io io = step(r, nullptr);
    if (io != Io::kWantRead && io != Io::kWantWrite) return;
    if (!wait(io, timeout_ms)) return;
  }
}

}  // namespace qng::pop3

// tls.cc: OpenSSL behind the Transport interface.
//
// The descriptors become non-blocking so that a client that sends half a
// TLS record and stops cannot hold SSL_read past the timeout: every wait is
// a poll bounded by the caller's time.
#include "tls.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "io.h"

namespace qng::smtpd {

namespace {

Error tls_error(const char* what) {
  unsigned long e = ERR_get_error();
  std::string text = what;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    text += ": ";
    text += buf;
  }
  ERR_clear_error();
  return Error::temp(text, EPROTO);
}

Status set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags == -1 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
    return Error::last("unable to set O_NONBLOCK");
  return {};
}

}  // namespace

Result<TlsContext> TlsContext::load(const std::string& certfile) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return tls_error("SSL_CTX_new");
  TlsContext out(ctx);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
    return tls_error("unable to require TLS 1.2");
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET |
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);  // one process per connection
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_dh_auto(ctx, 1);
  if (SSL_CTX_use_certificate_chain_file(ctx, certfile.c_str()) != 1)
    return tls_error("unable to load the certificate");
  if (SSL_CTX_use_PrivateKey_file(ctx, certfile.c_str(), SSL_FILETYPE_PEM) != 1)
    return tls_error("unable to load the private key");
  if (SSL_CTX_check_private_key(ctx) != 1) return tls_error("key does not match certificate");
  return out;
}

TlsContext::~TlsContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

Status TlsTransport::wait_for(int ssl_error, long long deadline_ms) {
  short events;
  int fd;
  if (ssl_error == SSL_ERROR_WANT_READ) {
    events = POLLIN;
    fd = in_;
  } else if (ssl_error == SSL_ERROR_WANT_WRITE) {
    events = POLLOUT;
    fd = out_;
  } else if (ssl_error == SSL_ERROR_ZERO_RETURN) {
    return Error::temp("TLS connection closed", EPIPE);
  } else {
    return tls_error("TLS failure");
  }
  long long left = deadline_ms - now_ms();
  if (left <= 0) return Error::sys(ETIMEDOUT, "timed out");
  return wait_fd(fd, events, static_cast<int>(std::min<long long>(left, INT_MAX)));
}

Result<std::unique_ptr<TlsTransport>> TlsTransport::accept(const TlsContext& ctx, int in,
                                                           int out, int timeout_ms) {
  if (auto st = set_nonblocking(in); !st) return st.error();
  if (auto st = set_nonblocking(out); !st) return st.error();
  SSL* ssl = SSL_new(ctx.get());
  if (!ssl) return tls_error("SSL_new");
  std::unique_ptr<TlsTransport> t(new TlsTransport(ssl, in, out));
  if (SSL_set_rfd(ssl, in) != 1 || SSL_set_wfd(ssl, out) != 1) return tls_error("SSL_set_fd");
  long long deadline = now_ms() + timeout_ms;
  for (;;) {
    ERR_clear_error();
    int r = SSL_accept(ssl);
    if (r == 1) return t;
    if (auto w = t->wait_for(SSL_get_error(ssl, r), deadline); !w) return w.error();
  }
}

TlsTransport::~TlsTransport() { SSL_free(ssl_); }

Result<size_t> TlsTransport::read(char* buf, size_t n, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  int len = static_cast<int>(std::min<size_t>(n, INT_MAX));
  for (;;) {
    ERR_clear_error();
    int r = SSL_read(ssl_, buf, len);
    if (r > 0) return static_cast<size_t>(r);
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_ZERO_RETURN) return size_t{0};
    if (auto w = wait_for(e, deadline); !w) return w.error();
  }
}

Status TlsTransport::write(std::string_view data, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  while (!data.empty()) {
    int len = static_cast<int>(std::min<size_t>(data.size(), INT_MAX));
    ERR_clear_error();
    int r = SSL_write(ssl_, data.data(), len);
    if (r > 0) {
      data.remove_prefix(static_cast<size_t>(r));
      deadline = now_ms() + timeout_ms;
      continue;
    }
    if (auto w = wait_for(SSL_get_error(ssl_, r), deadline); !w) return w;
  }
  return {};
}

bool TlsTransport::pending() const { return SSL_pending(ssl_) > 0; }

std::string TlsTransport::version() const {
  std::string v = SSL_get_version(ssl_);  // "TLSv1.3"
  if (auto p = v.find('v'); p != std::string::npos) v.erase(p, 1);
  return v;
}

std::string TlsTransport::cipher() const {
  const char* c = SSL_get_cipher_name(ssl_);
  return c ? c : "unknown";
}

}  // namespace qng::smtpd

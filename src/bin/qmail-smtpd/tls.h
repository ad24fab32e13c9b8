// tls.h: TLS (OpenSSL) as a Transport: STARTTLS (RFC 3207) and implicit
// TLS. TLS 1.2 or newer; certificate chain and key from one PEM file
// (control/servercert.pem, the qmail-tls convention).
#pragma once

#include <memory>
#include <string>

#include "conn.h"
#include "result.h"

struct ssl_st;
struct ssl_ctx_st;

namespace qng::smtpd {

class TlsContext {
 public:
  // Loads the certificate chain and private key from certfile.
  static Result<TlsContext> load(const std::string& certfile);
  TlsContext(TlsContext&& o) noexcept : ctx_(o.ctx_) { o.ctx_ = nullptr; }
  TlsContext& operator=(TlsContext&&) = delete;
  ~TlsContext();
  ssl_ctx_st* get() const { return ctx_; }

 private:
  explicit TlsContext(ssl_ctx_st* ctx) : ctx_(ctx) {}
  ssl_ctx_st* ctx_;
};

class TlsTransport final : public Transport {
 public:
  // The server side of the handshake over in/out (made non-blocking),
  // waiting at most timeout_ms for the client.
  static Result<std::unique_ptr<TlsTransport>> accept(const TlsContext& ctx, int in, int out,
                                                      int timeout_ms);
  ~TlsTransport() override;

  Result<size_t> read(char* buf, size_t n, int timeout_ms) override;
  Status write(std::string_view data, int timeout_ms) override;
  bool pending() const override;

  // "TLS1.3", "TLS1.2" (for the Received line).
  std::string version() const;
  // "TLS_AES_256_GCM_SHA384".
  std::string cipher() const;

 private:
  TlsTransport(ssl_st* ssl, int in, int out) : ssl_(ssl), in_(in), out_(out) {}
  // Waits as OpenSSL's last error asks (read or write readiness); false
  // with the error when it is not one of those.
  Status wait_for(int ssl_error, long long deadline_ms);

  ssl_st* ssl_;
  int in_;
  int out_;
};

}  // namespace qng::smtpd

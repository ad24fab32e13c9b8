// tls.h: the client side of STARTTLS (RFC 3207) with OpenSSL.
//
// encrypt and may: any certificate is taken (opportunistic TLS, RFC 7435).
// verify: the chain must lead to control/tlsca.pem, or to the system's CA
// store when that file is missing, and the certificate must name the MX
// (or relay) host, or hold its IP address when the host was an address.
#pragma once

#include <openssl/ssl.h>

#include <optional>
#include <string>
#include <string_view>

#include "ip.h"
#include "result.h"

namespace qng::remote {

class TlsContext {
 public:
  static Result<TlsContext> create(bool verify, const std::optional<std::string>& cafile);

  TlsContext(TlsContext&& o) noexcept : ctx_(o.ctx_), verify_(o.verify_) { o.ctx_ = nullptr; }
  TlsContext& operator=(TlsContext&&) = delete;
  TlsContext(const TlsContext&) = delete;
  ~TlsContext();

  // A session for the socket fd to the host `name` ("" when the host was
  // an address literal) at ip: SNI, and with verify the identity to check.
  Result<SSL*> session(int fd, std::string_view name, const IpAddress& ip) const;
  bool verify() const { return verify_; }

 private:
  TlsContext() = default;
  SSL_CTX* ctx_ = nullptr;
  bool verify_ = false;
};

// What an established session uses, for the report:
// "TLS: TLSv1.3 TLS_AES_256_GCM_SHA384, certificate verified.\n".
std::string tls_summary(SSL* ssl, bool verified);

}  // namespace qng::remote

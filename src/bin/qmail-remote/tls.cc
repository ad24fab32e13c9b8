// tls.cc: STARTTLS client contexts (tls.h).
#include "tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "channel.h"

namespace qng::remote {

Result<TlsContext> TlsContext::create(bool verify, const std::optional<std::string>& cafile) {
  TlsContext t;
  t.verify_ = verify;
  t.ctx_ = SSL_CTX_new(TLS_client_method());
  if (!t.ctx_) return Error::temp("unable to create a TLS context: " + openssl_errors());
  SSL_CTX_set_options(t.ctx_, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (verify) {
    int ok = cafile ? SSL_CTX_load_verify_locations(t.ctx_, cafile->c_str(), nullptr)
                    : SSL_CTX_set_default_verify_paths(t.ctx_);
    if (ok != 1)
      return Error::temp("unable to load " + (cafile ? *cafile : std::string("the CA store")) +
                         ": " + openssl_errors());
    SSL_CTX_set_verify(t.ctx_, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(t.ctx_, SSL_VERIFY_NONE, nullptr);
  }
  return t;
}

TlsContext::~TlsContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

Result<SSL*> TlsContext::session(int fd, std::string_view name, const IpAddress& ip) const {
  SSL* ssl = SSL_new(ctx_);
  if (!ssl) return Error::temp("unable to start TLS: " + openssl_errors());
  auto fail = [&](const char* what) {
    SSL_free(ssl);
    return Error::temp(std::string(what) + ": " + openssl_errors());
  };
  if (SSL_set_fd(ssl, fd) != 1) return fail("unable to start TLS");
  std::string host(name);
  bool named = !host.empty() && !parse_ip(host);
  if (named && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1)
    return fail("unable to set the TLS server name");
  if (verify_) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = named ? X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size())
                   : X509_VERIFY_PARAM_set1_ip(param, ip.bytes.data(), ip.size());
    if (ok != 1) return fail("unable to set the name to verify");
  }
  return ssl;
}

std::string tls_summary(SSL* ssl, bool verified) {
  std::string s = "TLS: ";
  s += SSL_get_version(ssl);
  if (const char* c = SSL_get_cipher_name(ssl)) {
    s += ' ';
    s += c;
  }
  s += verified ? ", certificate verified.\n" : ", certificate not verified.\n";
  return s;
}

}  // namespace qng::remote

// tls.h: the server side of one TLS connection (OpenSSL) over a pair of
// descriptors, for qmail-popup's STLS.
//
// The descriptors are made non-blocking: the relay (relay.h) drives the
// connection with poll(2); the *_wait forms wait for each step with a
// timeout, for the command phase.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "result.h"

namespace qng::pop3 {

class TlsServer {
 public:
  // Loads the certificate chain and the private key from one PEM file
  // (control/servercert.pem) and checks that they belong together.
  static Result<std::unique_ptr<TlsServer>> load(const std::string& pem);
  ~TlsServer();
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  // The TLS handshake on rfd/wfd (often the same socket), each step waiting
  // at most timeout_ms.
  Status handshake(int rfd, int wfd, int timeout_ms);

  // One non-blocking step. kDone: *n bytes moved. kEof: the peer closed.
  // kWantRead / kWantWrite: wait for rfd readable / wfd writable and retry
  // (a write must be retried with at least the same bytes).
  enum class Io { kDone, kEof, kWantRead, kWantWrite, kFail };
  Io read(char* buf, size_t len, size_t* n);
  Io write(const char* buf, size_t len, size_t* n);

  // Blocking forms: bytes read (0 at end of input); all of data written.
  Result<size_t> read_wait(char* buf, size_t len, int timeout_ms);
  Status write_wait(std::string_view data, int timeout_ms);
  // Sends close_notify, best effort.
  void close_notify(int timeout_ms);

  int rfd() const { return rfd_; }
  int wfd() const { return wfd_; }
  // What OpenSSL said last, for messages.
  std::string last_error() const;

 private:
  TlsServer() = default;
  Io step(int r, size_t* n);
  Status wait(Io io, int timeout_ms);

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int rfd_ = -1;
  int wfd_ = -1;
  std::string error_;
};

}  // namespace qng::pop3

// client.h: qmail-popup's end of the client connection: plain (fd 0 in,
// fd 1 out) until STLS, TLS after it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "io.h"
#include "result.h"
#include "tls.h"

namespace qng::pop3 {

class Client {
 public:
  Client(int in_fd, int out_fd, int timeout_ms);

  // One line through its LF: true; false at end of input (a last line
  // without LF is dropped, as qmail). E2BIG past max bytes. Plain reads take
  // one byte at a time, so whatever the client sent after the line stays in
  // the socket for the program that comes next; TLS reads take whole
  // records, and what follows the line stays in pending().
  Result<bool> read_line(std::string& line, size_t max);
  // Writes text at once.
  Status send(std::string_view text);

  // Starts TLS after "+OK" went out: the handshake, then a clean slate.
  // Bytes the client pipelined after STLS were never read (plain reads stop
  // at the line's end), so they meet the handshake and fail it, as
  // RFC 2595 wants plaintext injected before TLS to fail.
  Status start_tls(std::unique_ptr<TlsServer> tls);
  bool tls_active() const { return tls_ != nullptr; }
  TlsServer* tls() { return tls_.get(); }

  // Bytes received after the last line read (TLS only), for the child.
  std::string take_pending();

  int in_fd() const { return in_fd_; }
  int out_fd() const { return out_fd_; }

 private:
  int in_fd_;
  int out_fd_;
  int timeout_ms_;
  Writer out_;
  std::unique_ptr<TlsServer> tls_;
  std::string pending_;
};

}  // namespace qng::pop3

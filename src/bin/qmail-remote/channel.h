// channel.h: the SMTP or QMTP connection: a non-blocking socket, for SMTP
// perhaps wrapped in TLS later, with qmail's timeoutremote on every read
// and write.
#pragma once

#include <openssl/ssl.h>

#include <string>
#include <string_view>

#include "fd.h"
#include "result.h"

namespace qng::remote {

class Channel {
 public:
  Channel(Fd fd, int timeout_ms) : fd_(std::move(fd)), timeout_ms_(timeout_ms) {}
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Output is buffered until flush().
  void put(std::string_view s) { out_.append(s); }
  size_t pending() const { return out_.size(); }
  Status flush();

  // Reads through the next LF (kept) into line. E2BIG when max bytes come
  // without one; EPIPE at the end of the stream; ETIMEDOUT.
  Status read_line(std::string& line, size_t max);
  // Reads exactly n bytes, appended to out. EPIPE when the stream ends
  // first; ETIMEDOUT.
  Status read_exact(std::string& out, size_t n);
  // Bytes received and not yet consumed.
  size_t buffered() const { return in_.size() - in_pos_; }

  // Takes ownership of ssl (made for this socket) and runs the handshake.
  // The error's context is OpenSSL's reason.
  Status start_tls(SSL* ssl);
  SSL* ssl() const { return ssl_; }
  bool tls() const { return ssl_ != nullptr; }
  int fd() const { return fd_.get(); }

 private:
  Result<size_t> read_some(char* buf, size_t n);
  // Refills in_ (which must be used up); EPIPE at the end of the stream.
  Status fill();
  Result<size_t> write_some(const char* buf, size_t n);
  // Waits as an SSL call asked (SSL_ERROR_WANT_READ/WRITE), or fails.
  Status wait_tls(int ssl_error, const char* what);

  Fd fd_;
  int timeout_ms_;
  SSL* ssl_ = nullptr;
  std::string out_;
  std::string in_;
  size_t in_pos_ = 0;
};

// OpenSSL's queued errors as one line (and the queue emptied).
std::string openssl_errors();

}  // namespace qng::remote

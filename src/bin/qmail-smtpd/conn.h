// conn.h: the SMTP connection's bytes: a Transport (the plain descriptors,
// or TLS over them) under one buffered, timed Conn, so that the protocol
// code never knows which it talks through.
//
// Conn's reads die on purpose, as qmail-smtpd's saferead: at end of input
// the process exits; after timeoutsmtpd without a byte it answers
// "451 timeout" and exits; past the session's time limit it answers 421 and
// exits. Before any read that would block it flushes the pending replies
// (so pipelined commands get their replies in one write).
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "result.h"

namespace qng::smtpd {

class Transport {
 public:
  virtual ~Transport() = default;
  // Up to n bytes, 0 at the end of the stream; waits at most timeout_ms
  // (ETIMEDOUT).
  virtual Result<size_t> read(char* buf, size_t n, int timeout_ms) = 0;
  // All of data, waiting at most timeout_ms for each chance to write.
  virtual Status write(std::string_view data, int timeout_ms) = 0;
  // Input already received below us but not read yet (TLS records).
  virtual bool pending() const { return false; }
};

// The connection's descriptors as they are: fd 0 in, fd 1 out.
class FdTransport final : public Transport {
 public:
  FdTransport(int in, int out) : in_(in), out_(out) {}
  Result<size_t> read(char* buf, size_t n, int timeout_ms) override;
  Status write(std::string_view data, int timeout_ms) override;

 private:
  int in_;
  int out_;
};

// Milliseconds on the monotonic clock.
long long now_ms();

class Conn {
 public:
  // timeout_s: the wait allowed for each read and write; session_s: the
  // whole connection's time (0: unlimited).
  Conn(std::unique_ptr<Transport> t, long long timeout_s, long long session_s);

  // Queues one reply line (CRLF added); writes out when much is queued.
  void reply(std::string_view line);
  // Writes out the queued replies; dies when the client is gone.
  void flush();

  // Reads one line; the LF and one CR before it are removed. false when the
  // line was longer than max (the whole line is consumed and `line` empty).
  bool read_line(std::string& line, size_t max);
  // The buffered input, reading more when there is none.
  std::string_view peek();
  void consume(size_t n);
  // STARTTLS: whatever the client sent before the handshake goes away.
  void discard_input();

  Transport& transport() { return *t_; }
  void set_transport(std::unique_ptr<Transport> t) { t_ = std::move(t); }
  // The wait for the next operation, within the session limit; dies when
  // the session is over.
  int wait_ms();

  // Writes a last reply (best effort) and exits.
  [[noreturn]] void die(std::string_view last_reply, int code = 1);

 private:
  void fill();

  std::unique_ptr<Transport> t_;
  long long timeout_ms_;
  long long deadline_ms_;  // 0: no session limit
  std::string in_;   // input buffer: bytes pos_..end_ are unread
  size_t pos_ = 0;
  size_t end_ = 0;
  std::string out_;
};

}  // namespace qng::smtpd

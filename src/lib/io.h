// io.h: buffered Reader and Writer over a descriptor, with a timeout on
// every operation.
//
// Neither owns the descriptor (an Fd does). A timeout of 0 or less means
// "wait forever"; otherwise each read or write waits at most that many
// milliseconds for the descriptor and then fails with ETIMEDOUT.
//
// The Writer's error is sticky: after the first failure it does nothing,
// so a hot loop of put() calls needs no checks; flush() reports the error
// and must be checked.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "result.h"

namespace qng {

class Reader {
 public:
  explicit Reader(int fd, int timeout_ms = 0, size_t bufsize = 8192);

  // Up to n bytes, from the buffer first; 0 only at end of file.
  Result<size_t> read(char* out, size_t n);
  // One byte; false at end of file.
  Result<bool> get(char& c);
  // Reads through `delim` into `line` (delimiter kept). At end of file it
  // returns what it has: an empty line means end of file. A line longer than
  // `max` bytes fails with E2BIG, and what was read is left unconsumed only
  // up to the cap (the caller should give up on the stream).
  Result<bool> read_line(std::string& line, size_t max, char delim = '\n');
  // Exactly n bytes or an error (EPIPE at a premature end of file).
  Status read_exact(char* out, size_t n);
  // Bytes buffered and not yet consumed.
  size_t buffered() const { return end_ - pos_; }
  // Drops whatever is buffered (STARTTLS: pipelined bytes must go).
  void discard_buffer() { pos_ = end_ = 0; }
  void set_timeout(int timeout_ms) { timeout_ms_ = timeout_ms; }
  int fd() const { return fd_; }

 private:
  Result<size_t> fill();

  int fd_;
  int timeout_ms_;
  std::string buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
};

class Writer {
 public:
  explicit Writer(int fd, int timeout_ms = 0, size_t bufsize = 8192);
  ~Writer() = default;  // never flushes implicitly: unflushed data is lost

  void put(std::string_view s);
  void put(char c);
  // Decimal text of n.
  void put_number(unsigned long long n);
  // Writes out the buffer; the first error of this Writer, if any.
  Status flush();
  bool failed() const { return failed_; }
  const Error& error() const { return error_; }
  void set_timeout(int timeout_ms) { timeout_ms_ = timeout_ms; }
  int fd() const { return fd_; }

 private:
  void write_out(std::string_view s);

  int fd_;
  int timeout_ms_;
  size_t cap_;
  std::string buf_;
  bool failed_ = false;
  Error error_;
};

// Waits until fd is readable (events = POLLIN) or writable (POLLOUT);
// ETIMEDOUT after timeout_ms (<= 0: forever).
Status wait_fd(int fd, short events, int timeout_ms);

}  // namespace qng

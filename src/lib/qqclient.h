// qqclient.h: handing a message to qmail-queue (qmail's qmail.c).
//
// Every program that queues mail uses this: it runs $QMAILQUEUE when set
// (the content-filter hook, netqmail+), else HOME/bin/qmail-queue, with the
// message written to its fd 0 and the envelope to its fd 1. Programs that
// must not trust the environment pass trust_env = false.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "fd.h"
#include "io.h"
#include "result.h"

namespace qng {

class QueueClient {
 public:
  // Starts qmail-queue. `home` is QMAILHOME; the child runs with cwd = home.
  static Result<QueueClient> start(const std::string& home, bool trust_env = true);

  QueueClient(QueueClient&&) noexcept;
  QueueClient& operator=(QueueClient&&) noexcept;
  ~QueueClient();  // an unfinished client kills and reaps its child

  pid_t pid() const { return pid_; }
  // Message bytes (sticky errors; reported by finish()).
  void put(std::string_view bytes);
  // Copies the rest of fd into the message.
  void put_fd(int fd);
  // Envelope: sender, then recipients; finish() sends the final NUL.
  void from(std::string_view sender);
  void to(std::string_view recipient);

  // Closes both pipes, waits for qmail-queue, and returns "" on success or
  // qmail's text for the exit code, starting with 'D' (permanent) or 'Z'
  // (temporary), e.g. "Zqq write error or disk full (#4.3.0)". A filter's
  // exit 82 with text on its fd 6 returns that text (at most 255 bytes).
  std::string finish();

 private:
  QueueClient() = default;
  // Writes out buf_ to the pipe of the current phase (SIGPIPE held off).
  void flush_buffer();
  void put_bytes(std::string_view bytes);
  // qmail_from's first half: flush and close the message pipe.
  void end_message();
  // Closes both pipes without the final NUL (so qmail-queue removes what
  // it made) and reaps the child; kills it if it does not exit soon.
  void abandon();

  pid_t pid_ = -1;
  Fd msg_fd_;          // write end of the child's fd 0
  Fd env_fd_;          // write end of the child's fd 1
  Fd custom_fd_;       // read end of the child's fd 6 (exit 82 text)
  std::string buf_;    // pending bytes for the pipe of the current phase
  bool in_envelope_ = false;
  bool failed_ = false;  // sticky: nothing more is sent, not even the final NUL
};

// qmail's qmail_close texts for qmail-queue exit codes ("" for 0).
std::string queue_exit_text(int code);

}  // namespace qng

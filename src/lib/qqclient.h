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
  pid_t pid_ = -1;
  int msg_fd_ = -1;
  int env_fd_ = -1;
  int custom_fd_ = -1;  // read end of the child's fd 6 (exit 82 text)
  Writer* msg_ = nullptr;
  std::string envelope_;
  bool failed_ = false;
};

// qmail's qmail_close texts for qmail-queue exit codes ("" for 0).
std::string queue_exit_text(int code);

}  // namespace qng

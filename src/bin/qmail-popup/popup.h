// popup.h: qmail-popup's session: the POP3 authorization state, STLS, and
// running the checkpassword program with the session handed on to it.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <string>
#include <vector>

#include "command.h"

namespace qng::pop3 {

// Commands taken before authentication; then the connection is dropped.
constexpr size_t kMaxAuthCommands = 50;

struct PopupConfig {
  std::string hostname;
  std::vector<std::string> child;  // subprogram [args...]
  std::string certfile;            // control/servercert.pem, "" when none: no STLS
  bool plaintext_ok = false;       // control/pop3plaintext is 1
  int in_fd = 0;
  int out_fd = 1;
  int timeout_ms = kTimeoutMs;
};

// The greeting line, CRLF included. It carries no <timestamp>: that would
// announce APOP (RFC 1939 section 7), which a store of hashes cannot do.
std::string greeting(const std::string& hostname);

// The checkpassword timestamp, qmail's <pid.time@hostname>.
std::string timestamp(pid_t pid, time_t now, const std::string& hostname);

// The CAPA answer, CRLF lines through ".": USER only when a password may be
// sent now (TLS is active, or control/pop3plaintext allows it), STLS only
// when a certificate exists and TLS is not active yet.
std::string capabilities(bool user, bool stls);

// Serves one connection. Returns the exit code: 0 after QUIT or a session
// the child ended well, 1 otherwise.
int run_popup(const PopupConfig& config);

}  // namespace qng::pop3

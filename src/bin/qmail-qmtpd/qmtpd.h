// qmtpd.h: qmail-qmtpd's configuration and session.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "qmtp.h"
#include "result.h"

namespace qng::qmtpd {

// Recipients per package that get a verdict of their own; any beyond get
// a temporary refusal (the client retries them), so memory stays bounded.
constexpr size_t kMaxRecipients = 100000;
// The session's lifetime, as qmail's alarm(3600).
constexpr unsigned kSessionSeconds = 3600;

struct Config {
  std::string home;
  TcpPeer peer;
  std::optional<std::string> relayclient;  // $RELAYCLIENT
  uint64_t databytes = 0;                  // control/databytes or $DATABYTES; 0 = none
  bool rcptcheck = true;                   // control/rcptcheck
};

// Reads the environment and control/databytes, control/rcptcheck. The
// working directory must be QMAILHOME.
Result<Config> load_config(const std::string& home);

// Packages on fd 0, replies on fd 1, until the client closes. Returns the
// exit code: 0 at the end of input, 100 on a malformed package, 111 on a
// resource problem.
int serve(const Config& cfg);

}  // namespace qng::qmtpd

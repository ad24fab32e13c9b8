// qmqpd.h: qmail-qmqpd's configuration and its one request.
#pragma once

#include <cstdint>
#include <string>

#include "qmtp.h"
#include "result.h"

namespace qng::qmqpd {

// The request's lifetime, as qmail's alarm(3600).
constexpr unsigned kSessionSeconds = 3600;

struct Config {
  std::string home;
  TcpPeer peer;
  uint64_t databytes = 0;  // control/databytes or $DATABYTES; 0 = no limit
};

// Reads the environment and control/databytes. The working directory must
// be QMAILHOME.
Result<Config> load_config(const std::string& home);

// One request on fd 0, its reply on fd 1. Returns the exit code: 0 after
// the reply (or when the client went away first), 100 on a malformed
// request, 111 on a resource problem.
int serve(const Config& cfg);

}  // namespace qng::qmqpd

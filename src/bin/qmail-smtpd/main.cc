// qmail-smtpd: receive mail by SMTP (RFC 5321 with PIPELINING, 8BITMIME,
// SIZE, ENHANCEDSTATUSCODES, SMTPUTF8, STARTTLS, AUTH) and queue it.
// Run per connection by a tcpserver-compatible listener: fd 0 and fd 1 are
// the connection; ucspi-tcp's environment (TCPREMOTEIP, TCPREMOTEHOST,
// TCPREMOTEINFO, TCPLOCALIP, TCPLOCALHOST, RELAYCLIENT, DATABYTES; SMTPS for
// implicit TLS, SUBMISSION for MAIL only after AUTH). Works in QMAILHOME; queues through qmail-queue.
// Exit 0 after QUIT; 1 when the client goes away, times out or must go.
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include "fd.h"
#include "instance.h"
#include "replies.h"
#include "session.h"

namespace {

constexpr const char* kUsage =
    "usage: qmail-smtpd\n"
    "Speaks SMTP on fd 0/1 and queues what it accepts; see qmail-smtpd(8).\n";

void say(std::string_view reply) {
  (void)qng::write_all(1, std::string(reply) + "\r\n");
}

// A write to a client that went away fails with EPIPE instead of killing
// us; a handler (unlike SIG_IGN) is reset by exec in our children.
void on_sigpipe(int) {}

}  // namespace

int main(int argc, char** argv) try {
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    (void)qng::write_all(1, kUsage);
    return 0;
  }
  struct sigaction sa {};
  sa.sa_handler = on_sigpipe;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGPIPE, &sa, nullptr);

  std::string home = qng::home_trusting_env();
  if (::chdir(home.c_str()) == -1) {
    say(qng::smtpd::reply::kControls);
    return 1;
  }
  auto cfg = qng::smtpd::load_config(home);
  if (!cfg) {
    say(qng::smtpd::reply::kControls);
    return 1;
  }
  return qng::smtpd::serve(*cfg);
} catch (...) {
  say(qng::smtpd::reply::kNoMem);
  return 1;
}

// qmail-qmtpd: receive mail by QMTP and queue it (qmail-qmtpd(8)).
// Run per connection by a tcpserver-compatible listener: fd 0 and fd 1 are
// the connection; ucspi-tcp's environment (TCPREMOTEIP, TCPREMOTEHOST,
// TCPREMOTEINFO, TCPLOCALHOST, TCPLOCALIP) plus RELAYCLIENT and DATABYTES.
// Works in QMAILHOME; queues through qmail-queue ($QMAILQUEUE honoured).
// Exit 0 when the client closes the connection; 100 on a malformed
// package; 111 on a resource problem (controls, qmail-queue, the 3600 s
// alarm).
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include "fd.h"
#include "instance.h"
#include "qmtpd.h"

namespace {

constexpr const char* kUsage =
    "usage: qmail-qmtpd\n"
    "Speaks QMTP on fd 0/1 and queues what it accepts; see qmail-qmtpd(8).\n";

extern "C" void on_alarm(int) { ::_exit(111); }
// A write to a client that went away fails with EPIPE instead of killing
// us; a handler (unlike SIG_IGN) is reset by exec in our children.
extern "C" void on_sigpipe(int) {}

void set_handler(int sig, void (*fn)(int)) {
  struct sigaction sa {};
  sa.sa_handler = fn;
  sigemptyset(&sa.sa_mask);
  ::sigaction(sig, &sa, nullptr);
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    return qng::write_all(1, kUsage) ? 0 : 1;
  }
  set_handler(SIGPIPE, on_sigpipe);
  set_handler(SIGALRM, on_alarm);
  ::alarm(qng::qmtpd::kSessionSeconds);

  std::string home = qng::home_trusting_env();
  if (::chdir(home.c_str()) == -1) return 111;
  auto cfg = qng::qmtpd::load_config(home);
  if (!cfg) return 111;
  return qng::qmtpd::serve(*cfg);
} catch (...) {
  return 111;  // out of memory: a resource problem
}

// qmail-qmqpd: receive one message by QMQP and queue it (qmail-qmqpd(8)).
// For trusted clients only: run per connection by a tcpserver-compatible
// listener whose rules admit the cluster's hosts. fd 0 and fd 1 are the
// connection; ucspi-tcp's environment (TCPREMOTEIP, TCPREMOTEHOST,
// TCPREMOTEINFO, TCPLOCALHOST, TCPLOCALIP) and DATABYTES. Works in
// QMAILHOME; queues through qmail-queue ($QMAILQUEUE honoured).
// Exit 0 after the reply (or when the client left first); 100 on a
// malformed request; 111 on a resource problem (controls, qmail-queue, the
// 3600 s alarm).
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include "fd.h"
#include "instance.h"
#include "qmqpd.h"

namespace {

constexpr const char* kUsage =
    "usage: qmail-qmqpd\n"
    "Reads one QMQP request on fd 0, queues it, answers on fd 1; see qmail-qmqpd(8).\n";

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
  ::alarm(qng::qmqpd::kSessionSeconds);

  std::string home = qng::home_trusting_env();
  if (::chdir(home.c_str()) == -1) return 111;
  auto cfg = qng::qmqpd::load_config(home);
  if (!cfg) return 111;
  return qng::qmqpd::serve(*cfg);
} catch (...) {
  return 111;  // out of memory: a resource problem
}

// qmail-popup: the POP3 server's authorization state.
//
// qmail-popup hostname subprogram [args...]
// fd 0/1: the client (tcpserver). Greets, takes USER/PASS (CAPA, STLS,
// NOOP, QUIT too), then runs subprogram (qmail-checkpassword qmail-pop3d
// Maildir) with `user\0password\0<pid.time@hostname>\0` on fd 3 and the
// session on fd 0/1; fd 2 is left alone. A password is taken only over
// TLS, unless control/pop3plaintext is 1. STLS is offered when
// control/servercert.pem exists. Exit codes: 0 after QUIT or a good
// session, 1 otherwise (usage, bad login, broken connection).
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <string>

#include "control.h"
#include "fd.h"
#include "instance.h"
#include "popup.h"

namespace {

int die(const std::string& why, const char* client_text) {
  (void)qng::write_all(2, "qmail-popup: " + why + "\n");
  (void)qng::write_all(1, std::string("-ERR ") + client_text + "\r\n");
  return 1;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    static const char kUsage[] =
        "usage: qmail-popup hostname subprogram [args...]\n"
        "POP3 authorization; runs e.g. qmail-checkpassword qmail-pop3d Maildir\n"
        "(see qmail-popup(8))\n";
    return qng::write_all(1, kUsage) ? 0 : 111;
  }
  if (argc < 3) return die("usage: qmail-popup hostname subprogram", "usage: popup hostname subprogram");
  std::signal(SIGPIPE, SIG_IGN);

  // Run as root (the system instance) the instance is where we lie.
  std::string home;
  if (::geteuid() == 0) {
    auto h = qng::home_from_exe();
    if (!h) return die(h.error().message(), "unable to read controls");
    home = *h;
  } else {
    home = qng::home_trusting_env();
  }
  qng::Control control(home + "/control");
  qng::pop3::PopupConfig config;
  config.hostname = argv[1];
  config.child.assign(argv + 2, argv + argc);
  auto cert = control.exists("servercert.pem");
  auto plain = control.number("pop3plaintext", 0);
  if (!cert || !plain) {
    const auto& e = !cert ? cert.error() : plain.error();
    return die(e.message(), "unable to read controls");
  }
  if (*cert) config.certfile = control.path("servercert.pem");
  config.plaintext_ok = *plain == 1;
  return qng::pop3::run_popup(config);
} catch (...) {
  return die("out of memory", "out of memory");
}

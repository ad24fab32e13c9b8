// qmail-pop3d: serves a Maildir over POP3, once qmail-popup and a
// checkpassword program have made us the user and put us in its home.
//
// qmail-pop3d maildirname
// fd 0: commands from the client; fd 1: answers (the network, or
// qmail-popup's TLS relay). Refuses to run as root (exit 1, message on fd
// 2); otherwise exits 0 however the session ends, as qmail's.
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <ctime>

#include "fd.h"
#include "maildir_list.h"
#include "session.h"

namespace {

// What the client reads before we give up; then exit 0, as qmail.
int die(const char* text) {
  (void)qng::write_all(1, std::string("-ERR ") + text + "\r\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    static const char kUsage[] =
        "usage: qmail-pop3d maildirname\n"
        "serves the Maildir over POP3 on fd 0/1; run by qmail-popup through\n"
        "a checkpassword program (see qmail-pop3d(8))\n";
    return qng::write_all(1, kUsage) ? 0 : 111;
  }
  if (::getuid() == 0 || ::geteuid() == 0) {
    (void)qng::write_all(2, "qmail-pop3d: refusing to run as root\n");
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2 || ::chdir(argv[1]) == -1) return die("this user has no $HOME/Maildir");

  const time_t now = std::time(nullptr);
  qng::pop3::clean_tmp(".", now);
  auto messages = qng::pop3::list_maildir(".", now);
  if (!messages) return die("unable to scan $HOME/Maildir");

  qng::pop3::Session session(0, 1, ".", std::move(*messages));
  (void)session.serve();
  return 0;
} catch (...) {
  return die("out of memory");
}

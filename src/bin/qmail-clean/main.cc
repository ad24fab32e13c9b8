// qmail-clean: removes queue files for qmail-send. No arguments.
//
// fd 0: commands from qmail-send, `foop/N\0` or `todo/N\0`; fd 1: one answer
// byte each, `+` done, `!` trouble, `x` malformed. Runs in QMAILHOME/queue
// ($QMAILHOME, else the instance of this binary). Exits 0 at end of input,
// 100 when it cannot answer, 111 when it cannot reach the queue.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "clean.h"
#include "instance.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--help") == 0) {
    std::fputs("usage: qmail-clean (started by qmail-start; commands on fd 0, answers on fd 1)\n",
               stdout);
    return 0;
  }
  std::string home = qng::home_trusting_env();
  if (::chdir(home.c_str()) == -1) return 111;
  if (::chdir("queue") == -1) return 111;
  ::signal(SIGPIPE, SIG_IGN);
  try {
    return qng::clean_loop(0, 1);
  } catch (...) {
    return 111;
  }
}

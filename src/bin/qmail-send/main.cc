// qmail-send: the queue manager. No arguments (--help prints a usage line).
//
// Started by qmail-start with cwd anywhere; works in QMAILHOME/queue.
// fd 0: activity log (qmail-log lines); fd 1/2: commands to / reports from
// qmail-lspawn; fd 3/4: the same for qmail-rspawn; fd 5/6: commands to /
// answers from qmail-clean. Signals: TERM finish running deliveries and
// exit, ALRM retry everything now, HUP re-read locals and virtualdomains.
// Exit: 0 after TERM; 111 when it cannot start or lost a spawn or
// qmail-clean.
#include <cstdio>
#include <cstring>
#include <new>

#include "failure.h"
#include "instance.h"
#include "logtext.h"
#include "send.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--help") == 0) {
    std::fputs("usage: qmail-send (started by qmail-start; log on fd 0, "
               "lspawn on fds 1/2, rspawn on fds 3/4, qmail-clean on fds 5/6)\n",
               stdout);
    return 0;
  }
  try {
    qng::send::QmailSend send(qng::home_trusting_env());
    return send.run();
  } catch (const std::bad_alloc&) {
    qng::send::Log(qng::send::kLogFd).line("alert: out of memory, dying...");
  } catch (...) {
    qng::send::Log(qng::send::kLogFd).line("alert: internal error, dying...");
  }
  return qng::kExitTemp;
}

// qmail-queue: put one message into the queue. The only setuid program.
//
// No arguments, no diagnostics, no environment. fd 0: the message; fd 1
// (read, not written): the envelope `F<sender>\0` `T<recipient>\0`... `\0`.
// Exit 0 when the message is queued (committed to disk); otherwise one of
// qmail's codes (11 address too long, 31 too many recipients, 51 no memory,
// 52 timeout, 53 write error, 54 read error, 61..66 trouble with QMAILHOME,
// queue, pid, mess, intd, todo, 81 bug, 91 envelope format), see enqueue.cc.
#include <unistd.h>

#include <cstring>
#include <new>

#include "enqueue.h"

#if defined(__SANITIZE_ADDRESS__)
// Sanitizer builds only: LeakSanitizer cannot inspect a setuid process (it
// is not dumpable) and would turn every queued message into exit 111.
extern "C" int __lsan_is_turned_off() { return ::getuid() != ::geteuid(); }
#endif

int main(int argc, char** argv) try {
  if (argc > 1 && std::strcmp(argv[1], "--help") == 0) {  // for people only
    static const char kUsage[] =
        "usage: qmail-queue 0<message 1<envelope\n"
        "queues the message on fd 0; reads the envelope F<sender>\\0 T<rcpt>\\0 ... \\0 "
        "on fd 1\n";
    return ::write(1, kUsage, sizeof kUsage - 1) < 0 ? 1 : 0;
  }
  return qng::queue_message();
} catch (const std::bad_alloc&) {
  return 51;
} catch (...) {
  return 81;
}

// qmail-qstat: how many messages are in the queue. No arguments.
//
// Prints `messages in queue: N` and `messages in queue but not yet
// preprocessed: M`. Uses $QMAILHOME, else the instance of this binary.
// Exit 0, or 111 (with a message on stderr) when the queue is unreadable.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "fd.h"
#include "instance.h"
#include "qstat.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--help") == 0) {
    std::fputs("usage: qmail-qstat\n"
               "prints the number of messages in the queue and in todo/\n", stdout);
    return 0;
  }
  std::string home = qng::home_trusting_env();
  std::string queue = home + "/queue";
  if (::chdir(queue.c_str()) == -1) {
    std::fprintf(stderr, "qmail-qstat: fatal: unable to chdir to %s: %s\n", queue.c_str(),
                 std::strerror(errno));
    return 111;
  }
  auto counts = qng::count_queue();
  if (!counts) {
    std::fprintf(stderr, "qmail-qstat: fatal: %s\n", counts.error().message().c_str());
    return 111;
  }
  if (!qng::write_all(1, qng::format_counts(*counts))) return 111;
  return 0;
}

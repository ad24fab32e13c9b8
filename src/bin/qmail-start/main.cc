// qmail-start: start qmail-send and its helpers. Runs as root in a system
// instance; qmailctl start runs it detached.
//
// qmail-start [defaultdelivery [logger arg...]]
// Forks the logger (stdin = qmail-send's log), qmail-lspawn defaultdelivery,
// qmail-rspawn and qmail-clean, wires the pipes and execs qmail-send.
// Trusts no environment: the instance is where this program lies. Prints
// nothing but, on failure, one line on stderr; exits 111 then.
#include <cstring>
#include <new>
#include <string>

#include "fd.h"
#include "start.h"

namespace {

int die(const std::string& why) {
  (void)qng::write_all(2, "qmail-start: " + why + "\n");
  return 111;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc > 1 && std::strcmp(argv[1], "--help") == 0) {
    static const char kUsage[] =
        "usage: qmail-start [defaultdelivery [logger arg...]]\n"
        "starts qmail-send with qmail-lspawn, qmail-rspawn, qmail-clean and a logger\n"
        "(see qmail-start(8))\n";
    return qng::write_all(1, kUsage) ? 0 : 111;
  }
  return die(qng::start::run(qng::start::parse_args(argc, argv)).message());
} catch (const std::bad_alloc&) {
  return die("out of memory");
}

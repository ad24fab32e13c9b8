// qmail-remote host sender recip...: sends the message on fd 0 by SMTP to
// host's mail exchangers (or its control/smtproutes relay) and prints, for
// qmail-rspawn, one r/h/s record per recipient and one K/Z/D record for
// the message, each text ending in NUL. Always exits 0, as qmail's: even a
// usage error is a D record. See qmail-remote(8) and docs/remote.md.
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include "fd.h"
#include "output.h"
#include "remote.h"

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    static const char kHelp[] =
        "usage: qmail-remote host sender recip...\n"
        "delivers the message on standard input by SMTP (see qmail-remote(8))\n";
    (void)qng::write_all(1, kHelp);
    return 0;
  }
  ::signal(SIGPIPE, SIG_IGN);
  std::string out;
  try {
    out = qng::remote::run(std::vector<std::string>(argv, argv + argc));
  } catch (...) {
    out = std::string(qng::remote::kNoMem) + '\0';
  }
  (void)qng::write_all(1, out);
  return 0;
}

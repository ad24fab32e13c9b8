// qmail-dkim: DKIM for the instance in $QMAILHOME (docs/dkim.md).
//
//   qmail-dkim sign SENDER < message > signed-message
//   qmail-dkim keygen DOMAIN [SELECTOR] [rsa|ed25519]
//   qmail-dkim dns DOMAIN SELECTOR
//
// Exit codes: 0 done (sign: also when no key applies and the message passes
// unsigned), 100 permanent (usage, bad names, key exists), 111 temporary.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "failure.h"
#include "instance.h"
#include "tool.h"

int main(int argc, char** argv) try {
  using namespace qng::dkimtool;
  if (argc > 1 && std::strcmp(argv[1], "--help") == 0) {
    std::fputs(
        "usage: qmail-dkim sign SENDER < message > signed-message\n"
        "       qmail-dkim keygen DOMAIN [SELECTOR] [rsa|ed25519]\n"
        "       qmail-dkim dns DOMAIN SELECTOR\n"
        "DKIM keys live in $QMAILHOME/control/dkim/DOMAIN/SELECTOR.key\n",
        stdout);
    return 0;
  }
  if (argc < 2) return usage();
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  std::string home = qng::home_trusting_env();
  if (cmd == "sign") return run_sign(home, args);
  if (cmd == "keygen") return run_keygen(home, args);
  if (cmd == "dns") return run_dns(home, args);
  return usage();
} catch (...) {
  return qng::dkimtool::fatal(qng::kExitTemp, "out of memory");
}

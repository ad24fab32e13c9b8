// qmail-local [-nN] [--] user homedir local dash ext domain sender defaultdelivery
// Delivers the message on fd 0 (seekable) as ~user/.qmail<dash><ext> says.
// fd 1: "did F+W+P" (and "qp N"), or the plan with -n; fd 2: the reason
// for a failure. Exit 0 delivered, 100 permanent failure, 111 temporary.
#include <sys/stat.h>

#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include "fd.h"
#include "local.h"

namespace {

constexpr const char* kUsage =
    "qmail-local: usage: qmail-local [ -nN ] user homedir local dash ext domain sender "
    "aliasempty";

void say(int fd, const std::string& text) { (void)qng::write_all(fd, text + "\n"); }

int report(const qng::local::Outcome& o) {
  if (!o.text.empty()) say(2, o.text);
  return o.code;
}

}  // namespace

int main(int argc, char** argv) try {
  ::umask(077);
  ::signal(SIGPIPE, SIG_IGN);
  qng::local::Args a;
  int i = 1;
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    say(1, kUsage);
    return 0;
  }
  // Options as qmail's getopt: only before the first operand, "--" ends them.
  for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      ++i;
      break;
    }
    for (const char* o = argv[i] + 1; *o; ++o) {
      if (*o == 'n')
        a.doit = false;
      else if (*o == 'N')
        a.doit = true;
      else
        return report({100, kUsage});
    }
  }
  std::vector<std::string> rest(argv + i, argv + argc);
  if (rest.size() != 8) return report({100, kUsage});
  a.user = rest[0];
  a.homedir = rest[1];
  a.local = rest[2];
  a.dash = rest[3];
  a.ext = rest[4];
  a.host = rest[5];
  a.sender = rest[6];
  a.defaultdelivery = rest[7];
  return report(qng::local::run(a));
} catch (...) {
  return report({111, "Out of memory. (#4.3.0)"});
}

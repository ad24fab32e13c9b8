// qmail-showctl: prints the instance's settings and every control file:
// what it means, its value, or "(Default.)" and the default. The instance
// is $QMAILHOME, else the one the program sits in, else /var/qmail.
// Exit 0; 111 when the control directory cannot be read.
#include <string>

#include "failure.h"
#include "fd.h"
#include "instance.h"
#include "showctl.h"

int main(int argc, char** argv) try {
  if (argc == 2 && std::string(argv[1]) == "--help") {
    (void)qng::write_all(1, "usage: qmail-showctl\n");
    return qng::kExitOk;
  }
  bool ok = true;
  std::string text = qng::showctl::report(qng::home_trusting_env(), qng::showctl::system_ids(), ok);
  if (!qng::write_all(1, text)) return qng::kExitTemp;
  return ok ? qng::kExitOk : qng::kExitTemp;
} catch (...) {
  (void)qng::write_all(2, "qmail-showctl: fatal: out of memory\n");
  return qng::kExitTemp;
}

// qmail-checkpassword: the checkpassword interface over the instance's
// password store (users/passwd).
//
// qmail-checkpassword prog [arg ...]
// fd 3: `login\0password\0timestamp\0` (at most 512 bytes). On a good
// password: becomes the user whose mailbox the login is (users/cdb), sets
// USER (the login's address), HOME and SHELL, changes to HOME and execs
// prog. The login is `local@domain`, or a bare local part meaning
// local@control/me. Run as root it finds its instance where it lies;
// otherwise from $QMAILHOME first.
// Exit codes: 1 bad password, unknown user or no mailbox; 2 misuse;
// 111 temporary trouble (messages on fd 2).
#include <cstring>
#include <string>
#include <vector>

#include "checkpassword.h"
#include "fd.h"

int main(int argc, char** argv) try {
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    static const char kUsage[] =
        "usage: qmail-checkpassword prog [arg ...]\n"
        "reads login\\0password\\0timestamp\\0 on fd 3, checks it against users/passwd,\n"
        "becomes the user and runs prog (see qmail-checkpassword(8))\n";
    return qng::write_all(1, kUsage) ? 0 : 111;
  }
  if (argc < 2) {
    (void)qng::write_all(2, "usage: qmail-checkpassword prog [arg ...]\n");
    return qng::checkpw::kExitUsage;
  }
  return qng::checkpw::run(std::vector<std::string>(argv + 1, argv + argc));
} catch (...) {
  (void)qng::write_all(2, "qmail-checkpassword: out of memory\n");
  return qng::checkpw::kExitTemp;
}

// keys.cc: qmailctl passwd and qmailctl dkim-keygen: the secrets of an
// instance (src/lib/passwd.h, src/lib/dkim.h).
//
// passwd ADDRESS: the password is one line of standard input; users/passwd
// gets its yescrypt hash. 0 set; 100 bad address or password (none, empty,
// too long, a NUL); 111 anything else (users/ unwritable, disk, lock).
// dkim-keygen DOMAIN [SELECTOR] [--rsa|--ed25519]: control/dkim/DOMAIN/
// SELECTOR.key, and the TXT record to publish on stdout. 100 bad names or a
// key that exists already; 111 otherwise.
#include <unistd.h>

#include <cerrno>

#include <string>

#include "commands.h"
#include "daemon.h"
#include "dkim.h"
#include "failure.h"
#include "fd.h"
#include "passwd.h"
#include "say.h"

namespace qng::ctl {

int run_passwd(const std::string& dir, const std::string& address) {
  if (auto st = check_instance(dir); !st) return fatal(st.error());
  auto login = login_address(dir, address);
  if (!login) {
    if (login.error().permanent())
      return fatal(kExitPerm, "bad address " + address + ": " + login.error().message());
    return fatal(login.error());
  }
  auto line = read_password_line(0);
  if (!line) {
    const Error& e = line.error();
    if (e.permanent())
      return fatal(kExitPerm, "no usable password on standard input (one line, at most " +
                                  std::to_string(kMaxPasswordLine) + " bytes): " + e.message());
    return fatal(kExitTemp, "unable to read the password: " + e.message());
  }
  if (line->empty()) return fatal(kExitPerm, "empty password: nothing set");
  if (line->size() > kMaxPassword)
    return fatal(kExitPerm, "password longer than " + std::to_string(kMaxPassword) +
                                " bytes: nothing set");
  if (auto st = set_password(dir, *login, *line); !st) {
    // Address and password were checked above: what is left is the store
    // (permissions, disk, lock), which a retry or the admin can fix.
    const Error& e = st.error();
    bool bad_input = e.permanent() && (e.code() == EINVAL || e.code() == E2BIG);
    return fatal(bad_input ? kExitPerm : kExitTemp, e.message());
  }
  say("passwd: set the password of " + *login + " in " + passwd_path(dir));
  return kExitOk;
}

int run_dkim_keygen(const std::string& dir, const std::string& domain,
                    const std::string& selector_arg, bool ed25519) {
  if (auto st = check_instance(dir); !st) return fatal(st.error());
  std::string selector = !selector_arg.empty() ? selector_arg : ed25519 ? "ed25519" : "default";
  auto record = dkim_keygen(dir, domain, selector,
                            ed25519 ? DkimAlgo::kEd25519Sha256 : DkimAlgo::kRsaSha256);
  if (!record) return fatal(record.error());
  if (auto st = write_all(1, *record + "\n"); !st) return fatal(kExitTemp, "unable to write output");
  return kExitOk;
}

}  // namespace qng::ctl

// checkpassword.h: the logic of qmail-checkpassword: reading the
// checkpassword record, finding the mailbox a login owns, becoming its user.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control.h"
#include "result.h"

namespace qng::checkpw {

// The checkpassword interface: at most 512 bytes on fd 3.
constexpr size_t kMaxInput = 512;

constexpr int kExitBad = 1;      // bad password, unknown user, no mailbox
constexpr int kExitUsage = 2;    // misuse: no program, malformed input
constexpr int kExitTemp = 111;   // temporary trouble

struct Credentials {
  std::string login;
  std::string password;
  std::string timestamp;  // may be empty; not used (no APOP)
};

// Parses `login\0password\0timestamp\0...`: login and password must each end
// with a NUL; the timestamp may be missing or unterminated (what follows it
// is ignored). nullopt when malformed.
std::optional<Credentials> parse_credentials(std::string_view data);

// Reads fd until end of input, at most kMaxInput bytes. Exit code on
// failure: kExitBad for more than kMaxInput bytes (as checkpassword),
// kExitUsage when fd is not open, kExitTemp for other read errors.
struct Input {
  std::string data;
  int failure = 0;  // 0 when data is complete
};
Input read_input(int fd);

// The local part qmail-send delivers `address` (user@domain) to, by
// control/locals (control/me when missing), control/percenthack and
// control/virtualdomains: "jo" for jo@me, "ex-jo" for jo@example.org with
// `example.org:ex`. nullopt when the address is not delivered here.
Result<std::optional<std::string>> delivery_local(const Control& control,
                                                   std::string_view address);

// The user a mailbox belongs to.
struct Identity {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};

// The identity qmail-lspawn delivers `local` as: its users/cdb assignment
// when that leaves no extension (`=jo:jo:UID:GID:HOME:::`); an assignment
// with an extension (a wildcard line, or an exact one with an ext) reaches
// a home shared with other addresses, so it gives no login. Without a
// users/cdb entry: the passwd account of that exact name (uid not 0, home
// owned by it), as qmail-getpw without extensions. nullopt: no mailbox.
Result<std::optional<Identity>> find_identity(const std::string& home, std::string_view local);

// Becomes the identity. Root: setgroups, setgid, setuid to it (never uid
// 0), then chdir to its home. Not root: no uid changes; chdir to its home
// when its uid is ours (an unprivileged instance), else to "/" (a check
// only, e.g. qmail-smtpd's AUTH as qmaild in the system instance).
Status become(const Identity& who);

// The whole program after argument checks: read fd 3, check, become the
// user, set USER, HOME and SHELL, exec prog. Returns an exit code only when
// it does not exec.
int run(const std::vector<std::string>& prog);

}  // namespace qng::checkpw

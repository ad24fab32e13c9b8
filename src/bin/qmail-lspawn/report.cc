// report.cc: qmail-lspawn's report rules and record parsing.
#include <sys/wait.h>

#include "lspawn.h"
#include "size.h"

namespace qng::lspawn {

std::string report(int wstat, std::string_view output) {
  output = output.substr(0, output.find('\0'));  // qmail-local's text ends at a NUL
  if (!WIFEXITED(wstat)) return "Zqmail-local crashed.\n";
  switch (WEXITSTATUS(wstat)) {
    case kExitCdb: return "ZTrouble reading users/cdb in qmail-lspawn.\n";
    case kExitNoMem: return "ZOut of memory in qmail-lspawn.\n";
    case kExitSys: return "ZTemporary failure in qmail-lspawn.\n";
    case kExitNoAlias: return "ZUnable to find alias user!\n";
    case kExitRoot: return "ZNot allowed to perform deliveries as root.\n";
    case kExitUsage: return "ZInternal qmail-lspawn bug.\n";
    case kExitNfs: return "ZNFS failure in qmail-local.\n";
    case kExitExecHard: return "DUnable to run qmail-local.\n";
    case kExitExecSoft: return "ZUnable to run qmail-local.\n";
    case kExitExecPw: return "ZUnable to run qmail-getpw.\n";
    case kExitOtherUid:
      return "ZThis unprivileged instance delivers only as its own user; "
             "the recipient belongs to another uid. (#4.3.0)\n";
    case 111: case 71: case 74: case 75:
      return "Z" + std::string(output);
    case 0:
      return "K" + std::string(output);
    default:
      return "D" + std::string(output);
  }
}

std::optional<Account> parse_account(std::string_view in) {
  std::string_view f[6];
  for (auto& field : f) {
    size_t nul = in.find('\0');
    if (nul == std::string_view::npos) return std::nullopt;
    field = in.substr(0, nul);
    in.remove_prefix(nul + 1);
  }
  if (!in.empty()) return std::nullopt;
  auto uid = parse_decimal(f[1], static_cast<uid_t>(-2));
  auto gid = parse_decimal(f[2], static_cast<gid_t>(-2));
  if (!uid || !gid || f[0].empty() || f[3].empty()) return std::nullopt;
  Account a;
  a.user = f[0];
  a.uid = static_cast<uid_t>(*uid);
  a.gid = static_cast<gid_t>(*gid);
  a.home = f[3];
  a.dash = f[4];
  a.ext = f[5];
  return a;
}

}  // namespace qng::lspawn

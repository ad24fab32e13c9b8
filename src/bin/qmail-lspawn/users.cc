// users.cc: the users/cdb lookup of qmail-lspawn (qmail-users(5)), through
// the library's assign_lookup.
#include "assign.h"
#include "lspawn.h"

namespace qng::lspawn {

Result<std::optional<Account>> lookup_users(const CdbReader& cdb, std::string_view local) {
  auto hit = assign_lookup(cdb, local);
  if (!hit) return hit.error();
  if (!*hit) return std::optional<Account>();
  Assignment& a = **hit;
  Account account;
  account.user = std::move(a.user);
  account.uid = a.uid;
  account.gid = a.gid;
  account.home = std::move(a.home);
  account.dash = std::move(a.dash);
  account.ext = std::move(a.ext);
  return std::optional<Account>(std::move(account));
}

}  // namespace qng::lspawn

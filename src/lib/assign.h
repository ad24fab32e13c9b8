// assign.h: users/assign (qmail-users(5)): parse it, compile it into
// users/cdb exactly as qmail-newu does, and look an address up in users/cdb
// exactly as qmail-lspawn does.
//
//   =local:user:uid:gid:homedir:dash:ext:    exact local part (any case)
//   +prefix:user:uid:gid:homedir:dash:pre:   local parts starting with prefix
//   .                                        ends the file (required)
//
// users/cdb holds, in file order, key "!" + lowercase(local) + "\0" for an
// exact line and "!" + lowercase(prefix) for a wildcard line, each with the
// value "user\0uid\0gid\0homedir\0dash\0ext" (no final NUL), then the empty
// key "" whose value is the set of last characters of the wildcard prefixes.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cdb.h"
#include "result.h"

namespace qng {

// Caps: users/assign is read whole.
constexpr size_t kMaxAssignBytes = 256u << 20;

// One line of users/assign, its fields as written.
struct AssignEntry {
  size_t line = 0;        // 1-based line number, for messages
  bool wildcard = false;  // '+' line
  std::string local;      // local part or prefix, as written
  std::string user, uid, gid, home, dash, ext;
};

// What qmail-lspawn needs to run qmail-local for an address.
struct Assignment {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string dash;
  std::string ext;  // for a wildcard hit: pre + rest of the local part
};

// Parses users/assign. Errors are permanent and name the line ("line 3:
// ..."); a file without its final "." line is an error, as in qmail-newu.
// Lines after the "." line are ignored.
Result<std::vector<AssignEntry>> parse_assign(std::string_view text);

// The users/cdb records of the entries, in the order qmail-newu adds them
// (the "" record of wildcard characters last).
std::vector<std::pair<std::string, std::string>> assign_cdb_records(
    const std::vector<AssignEntry>& entries);

// Parses `text` and writes users/cdb to `path` (via path.tmp, fsync, rename,
// fsync of the directory). A format error leaves `path` untouched.
Status compile_assign(std::string_view text, const std::string& path);

// qmail-lspawn's lookup (QMAIL-INTERFACES 8.1 step 1): the exact key first,
// then the longest wildcard prefix down to the empty one, a prefix being
// tried only when its last character is in the "" record. nullopt: no
// assignment (fall back to qmail-getpw). A database without the "" record or
// with a malformed value is an error (temporary, as lspawn's exit 117).
Result<std::optional<Assignment>> assign_lookup(const CdbReader& cdb, std::string_view local);

}  // namespace qng

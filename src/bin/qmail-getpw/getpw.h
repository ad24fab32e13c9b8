// getpw.h: qmail-getpw's logic: which account controls a local part.
//
// qmail's rule: the longest prefix of `local` that ends at its end or at a
// BREAK character, is shorter than 32 bytes and names (lowercased) an
// account with uid != 0 whose home exists and is owned by that uid; else the
// alias account with dash "-" and the whole local part as extension.
//
// An unprivileged instance (the instance directory belongs to the invoking
// uid) can deliver only as that uid: there only accounts with that uid count,
// and the alias account is the instance's alias/ directory under the
// invoking uid and gid, named "alias".
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace qng::getpw {

constexpr size_t kUserLen = 32;  // a user name is shorter than this
constexpr char kBreak = '-';     // conf-break

// qmail's qlx.h codes that qmail-getpw exits with.
constexpr int kExitNfs = 115;      // stat on a home failed temporarily
constexpr int kExitNoAlias = 116;  // no alias account
constexpr int kExitSys = 118;      // getpwnam failed temporarily

struct PwEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string dir;
};

// The system calls the lookup needs, so that tests can stand in for them.
class System {
 public:
  virtual ~System() = default;
  // The account, or nullopt with err set (0 when simply not found).
  virtual std::optional<PwEntry> getpwnam(const std::string& name, int& err) = 0;
  // 0 and the owner of path, or the errno of stat(2).
  virtual int owner_of(const std::string& path, uid_t& owner) = 0;
};

// The real one: getpwnam(3) and stat(2).
System& real_system();

struct Mode {
  bool own_instance = false;  // an unprivileged instance run by uid/gid
  uid_t uid = 0;
  gid_t gid = 0;
  std::string alias_home;     // the instance's alias/ directory
};

struct Found {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string dash;
  std::string ext;
};

// 0 with `out` filled, or the exit code (kExitNfs, kExitNoAlias, kExitSys).
int lookup(System& sys, std::string_view local, const Mode& mode, Found& out);

// qmail-getpw's output: user \0 uid \0 gid \0 home \0 dash \0 ext \0.
std::string format(const Found& f);

// The mode of the instance at `home` for the invoking uid and gid.
Mode mode_for(const std::string& home, uid_t uid, gid_t gid);

}  // namespace qng::getpw

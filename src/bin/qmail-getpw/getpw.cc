// getpw.cc: qmail-getpw's account search (qmail's userext).
#include "getpw.h"

#include <pwd.h>
#include <sys/stat.h>

#include <cerrno>

#include "address.h"
#include "error.h"

namespace qng::getpw {

namespace {

class RealSystem : public System {
 public:
  std::optional<PwEntry> getpwnam(const std::string& name, int& err) override {
    errno = 0;
    struct passwd* pw = ::getpwnam(name.c_str());
    err = errno;
    if (!pw) return std::nullopt;
    err = 0;
    return PwEntry{pw->pw_name, pw->pw_uid, pw->pw_gid, pw->pw_dir ? pw->pw_dir : ""};
  }
  int owner_of(const std::string& path, uid_t& owner) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == -1) return errno;
    owner = st.st_uid;
    return 0;
  }
};

}  // namespace

System& real_system() {
  static RealSystem sys;
  return sys;
}

int lookup(System& sys, std::string_view local, const Mode& mode, Found& out) {
  // Longest prefix first, ending at the end of local or at a BREAK.
  for (size_t end = local.size();; --end) {
    if (end < kUserLen && (end == local.size() || local[end] == kBreak)) {
      int err = 0;
      auto pw = sys.getpwnam(lowercase(local.substr(0, end)), err);
      if (!pw && err == ETXTBSY) return kExitSys;
      if (pw && pw->uid != 0 && (!mode.own_instance || pw->uid == mode.uid)) {
        uid_t owner = 0;
        int e = sys.owner_of(pw->dir, owner);
        if (e == 0 && owner == pw->uid) {
          bool ext = end < local.size();
          out = Found{pw->name, pw->uid, pw->gid, pw->dir, ext ? "-" : "",
                      ext ? std::string(local.substr(end + 1)) : ""};
          return 0;
        }
        if (e != 0 && is_temp(e)) return kExitNfs;
      }
    }
    if (end == 0) break;
  }

  if (mode.own_instance) {
    uid_t owner = 0;
    if (sys.owner_of(mode.alias_home, owner) != 0 || owner != mode.uid) return kExitNoAlias;
    out = Found{"alias", mode.uid, mode.gid, mode.alias_home, "-", std::string(local)};
    return 0;
  }
  int err = 0;
  auto alias = sys.getpwnam("alias", err);
  if (!alias) return kExitNoAlias;
  out = Found{alias->name, alias->uid, alias->gid, alias->dir, "-", std::string(local)};
  return 0;
}

std::string format(const Found& f) {
  std::string s;
  for (const std::string& field : {f.user, std::to_string(f.uid), std::to_string(f.gid), f.home,
                                   f.dash, f.ext}) {
    s += field;
    s += '\0';
  }
  return s;
}

Mode mode_for(const std::string& home, uid_t uid, gid_t gid) {
  Mode m;
  m.uid = uid;
  m.gid = gid;
  m.alias_home = home + "/alias";
  struct stat st;
  m.own_instance = uid != 0 && ::stat(home.c_str(), &st) == 0 && st.st_uid == uid;
  return m;
}

}  // namespace qng::getpw

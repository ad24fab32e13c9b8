// system.cc: qmail's users and groups (qmail's INSTALL.ids, with useradd).
#include "system.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "proc.h"

namespace qng::ctl {

namespace {

struct Account {
  const char* name;
  Group group;
  bool alias_home;
};

constexpr Account kAccounts[] = {
    {"alias", Group::kNofiles, true},  {"qmaild", Group::kNofiles, false},
    {"qmaill", Group::kNofiles, false}, {"qmailp", Group::kNofiles, false},
    {"qmailq", Group::kQmail, false},   {"qmailr", Group::kQmail, false},
    {"qmails", Group::kQmail, false},
};

const char* group_name(Group g) { return g == Group::kQmail ? "qmail" : "nofiles"; }

// /usr/sbin/NAME, else /sbin/NAME.
std::string admin_tool(const char* name) {
  std::string p = std::string("/usr/sbin/") + name;
  if (::access(p.c_str(), X_OK) == 0) return p;
  return std::string("/sbin/") + name;
}

Result<gid_t> group_id(const char* name) {
  errno = 0;
  if (struct group* g = ::getgrnam(name)) return g->gr_gid;
  if (errno != 0 && errno != ENOENT && errno != ESRCH)
    return Error::last(std::string("unable to look up group ") + name);
  auto r = run_wait({admin_tool("groupadd"), "--system", name});
  if (!r) return r.error();
  if (*r != 0)
    return Error::temp("groupadd " + std::string(name) + " exited " + std::to_string(*r));
  if (struct group* g = ::getgrnam(name)) return g->gr_gid;
  return Error::temp(std::string("group ") + name + " missing after groupadd");
}

Result<uid_t> user_id(const Account& a, const std::string& dir) {
  errno = 0;
  if (struct passwd* pw = ::getpwnam(a.name)) return pw->pw_uid;
  if (errno != 0 && errno != ENOENT && errno != ESRCH)
    return Error::last(std::string("unable to look up user ") + a.name);
  std::string home = a.alias_home ? dir + "/alias" : dir;
  auto r = run_wait({admin_tool("useradd"), "--system", "--gid", group_name(a.group),
                     "--home-dir", home, "--no-create-home", "--shell", "/usr/sbin/nologin",
                     a.name});
  if (!r) return r.error();
  if (*r != 0) return Error::temp("useradd " + std::string(a.name) + " exited " + std::to_string(*r));
  if (struct passwd* pw = ::getpwnam(a.name)) return pw->pw_uid;
  return Error::temp(std::string("user ") + a.name + " missing after useradd");
}

}  // namespace

Ids own_ids() {
  Ids ids;
  uid_t u = ::geteuid();
  gid_t g = ::getegid();
  ids.root = ids.alias = ids.qmaild = ids.qmaill = ids.qmailp = ids.qmailq = ids.qmailr =
      ids.qmails = u;
  ids.qmail = ids.nofiles = g;
  return ids;
}

Result<uid_t> lookup_uid(const char* name) {
  errno = 0;
  if (struct passwd* pw = ::getpwnam(name)) return pw->pw_uid;
  if (errno != 0 && errno != ENOENT && errno != ESRCH)
    return Error::last(std::string("unable to look up user ") + name);
  return Error::perm(std::string("no user ") + name + ": run qmailctl init --system");
}

Result<gid_t> lookup_gid(const char* name) {
  errno = 0;
  if (struct group* g = ::getgrnam(name)) return g->gr_gid;
  if (errno != 0 && errno != ENOENT && errno != ESRCH)
    return Error::last(std::string("unable to look up group ") + name);
  return Error::perm(std::string("no group ") + name + ": run qmailctl init --system");
}

Result<Ids> system_ids(const std::string& dir) {
  Ids ids;
  auto q = group_id("qmail");
  if (!q) return q.error();
  auto n = group_id("nofiles");
  if (!n) return n.error();
  ids.qmail = *q;
  ids.nofiles = *n;
  ids.root = 0;
  uid_t* slots[] = {&ids.alias, &ids.qmaild, &ids.qmaill, &ids.qmailp,
                    &ids.qmailq, &ids.qmailr, &ids.qmails};
  for (size_t i = 0; i < std::size(kAccounts); ++i) {
    auto u = user_id(kAccounts[i], dir);
    if (!u) return u.error();
    if (*u == 0) return Error::perm(std::string("user ") + kAccounts[i].name + " has uid 0");
    *slots[i] = *u;
  }
  return ids;
}

}  // namespace qng::ctl

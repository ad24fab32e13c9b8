// init.cc: qmailctl init: make an instance directory.
//
// Unprivileged (the default): everything belongs to the invoking user, who
// runs the instance; root is refused. --system: qmail's users, owners and
// modes (qmail's hier.c and INSTALL.ids), run as root.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "commands.h"
#include "compile.h"
#include "failure.h"
#include "fd.h"
#include "instance.h"
#include "layout.h"
#include "say.h"
#include "system.h"

namespace qng::ctl {

namespace {

constexpr size_t kCopyChunk = 1 << 20;

struct Maker {
  std::string dir;  // the instance, absolute
  Ids ids;
  bool system;      // chown to qmail's users

  std::string at(const std::string& rel) const { return rel.empty() ? dir : dir + "/" + rel; }

  // Owner first, then mode: chown clears the setuid and setgid bits.
  Status own(const std::string& path, uid_t uid, gid_t gid, mode_t mode) const {
    if (system && ::lchown(path.c_str(), uid, gid) != 0)
      return Error::last("unable to chown " + path);
    if (::chmod(path.c_str(), mode) != 0) return Error::last("unable to chmod " + path);
    return {};
  }

  Status make(const Node& n) const {
    std::string p = at(n.path);
    switch (n.kind) {
      case Kind::kDir:
        if (::mkdir(p.c_str(), 0700) != 0 && !(n.path.empty() && errno == EEXIST))
          return Error::last("unable to mkdir " + p);
        break;
      case Kind::kEmpty:
      case Kind::kZeros1024: {
        auto fd = open_excl(p, 0600);
        if (!fd) return Error::sys(fd.error().code(), "unable to create " + p);
        if (n.kind == Kind::kZeros1024) {
          if (auto st = write_all(fd->get(), std::string(1024, '\0')); !st)
            return Error::sys(st.error().code(), "unable to write " + p);
        }
        if (auto st = fd->close(); !st) return Error::sys(st.error().code(), "unable to write " + p);
        break;
      }
      case Kind::kFifo:
        if (::mkfifo(p.c_str(), 0600) != 0) return Error::last("unable to mkfifo " + p);
        break;
    }
    return own(p, ids.uid(n.owner), ids.gid(n.group), n.mode);
  }

  Status file(const std::string& rel, std::string_view text, Who who, Group group,
              mode_t mode) const {
    std::string p = at(rel);
    auto fd = open_excl(p, 0600);
    if (!fd) return Error::sys(fd.error().code(), "unable to create " + p);
    if (auto st = write_all(fd->get(), text); !st)
      return Error::sys(st.error().code(), "unable to write " + p);
    if (auto st = fd->close(); !st) return Error::sys(st.error().code(), "unable to write " + p);
    return own(p, ids.uid(who), ids.gid(group), mode);
  }

  Status copy_program(const std::string& from, const std::string& name) const {
    std::string to = at("bin/" + name);
    auto in = open_read(from);
    if (!in) return Error::sys(in.error().code(), "unable to read " + from);
    auto out = open_excl(to, 0700);
    if (!out) return Error::sys(out.error().code(), "unable to create " + to);
    bool kernel_copy = true;
    for (;;) {
      ssize_t n = -1;
      if (kernel_copy) {
        n = ::copy_file_range(in->get(), nullptr, out->get(), nullptr, kCopyChunk, 0);
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                      errno == EOPNOTSUPP)) {
          kernel_copy = false;
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error::last("unable to copy " + from);
        if (n == 0) break;
        continue;
      }
      std::string buf(kCopyChunk, '\0');
      auto got = read_some(in->get(), buf.data(), buf.size());
      if (!got) return Error::sys(got.error().code(), "unable to read " + from);
      if (*got == 0) break;
      if (auto st = write_all(out->get(), std::string_view(buf.data(), *got)); !st)
        return Error::sys(st.error().code(), "unable to write " + to);
    }
    if (auto st = out->close(); !st) return Error::sys(st.error().code(), "unable to write " + to);
    // The one setuid program (QMAIL-INTERFACES.md section 0).
    if (name == "qmail-queue") return own(to, ids.qmailq, ids.qmail, system ? 04711 : 0755);
    return own(to, ids.root, ids.qmail, 0755);
  }

  // Every regular file beside our own program: the build's bin/.
  Status copy_programs() const {
    auto self = exe_dir();
    if (!self) return self.error();
    const std::string& from = *self;
    DIR* d = ::opendir(from.c_str());
    if (!d) return Error::last("unable to list " + from);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.empty() || name[0] == '.') continue;
      struct stat st;
      if (::stat((from + "/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode))
        names.push_back(name);
      errno = 0;
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return Error::sys(err, "unable to list " + from);
    for (const auto& name : names)
      if (auto st = copy_program(from + "/" + name, name); !st) return st;
    return {};
  }
};

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// DIR may exist only as an empty directory.
Status check_dir_free(const std::string& dir) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return Error::last("unable to stat " + dir);
  }
  if (!S_ISDIR(st.st_mode)) return Error::perm(dir + " exists and is not a directory");
  DIR* d = ::opendir(dir.c_str());
  if (!d) return Error::last("unable to list " + dir);
  bool empty = true;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") empty = false;
  }
  ::closedir(d);
  if (!empty) return Error::perm(dir + " exists and is not empty; refusing to touch it");
  return {};
}

std::string lines(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += l + "\n";
  return s;
}

Status populate(const Maker& m, const Options& o, const std::string& me) {
  for (const Node& n : layout_nodes())
    if (auto st = m.make(n); !st) return st;

  // control/: config-fast's files, then qmail-ng's own.
  std::vector<std::string> locals = {me};
  if (me != "localhost") locals.push_back("localhost");
  struct File {
    std::string name;
    std::string text;
  };
  std::vector<File> control = {
      {"me", me + "\n"},
      {"defaultdomain", default_domain_of(me) + "\n"},
      {"plusdomain", plus_domain_of(me) + "\n"},
      {"locals", lines(locals)},
      {"rcpthosts", lines(locals)},
      {"defaultdelivery", "./Maildir/\n"},
      {"rcptcheck", "1\n"},
      {"bounceformat", "dsn\n"},
  };
  for (const Service& s : kServices) {
    bool named = false;
    for (const Listener& l : o.listeners) {
      if (l.service != s.name) continue;
      named = true;
      control.push_back({std::string(s.listen).substr(8), l.addr.text() + "\n"});
    }
    if (named || !s.on_demand)
      control.push_back({std::string(s.rules).substr(8), s.default_rules});
  }
  for (const auto& f : control)
    if (auto st = m.file("control/" + f.name, f.text, Who::kRoot, Group::kQmail, 0644); !st)
      return st;

  if (auto st = m.file("users/assign", ".\n", Who::kRoot, Group::kQmail, 0644); !st) return st;

  // The alias user's addresses deliver to alias/Maildir/ until the admin
  // points them at a person (qmail's INSTALL.alias).
  for (const char* name : {".qmail-postmaster", ".qmail-mailer-daemon", ".qmail-root"})
    if (auto st = m.file(std::string("alias/") + name, "./Maildir/\n", Who::kAlias,
                         Group::kNofiles, 0644);
        !st)
      return st;

  if (auto st = m.copy_programs(); !st) return st;
  // The compiled files (root's in a system instance), as qmailctl cdb.
  if (auto st = compile_users(m.dir); !st) return st;
  for (const Service& s : kServices)
    if (auto st = compile_tcp_rules(m.dir, s.name); !st) return st;
  if (auto st = compile_recipients(m.dir); !st) return st;
  if (auto st = fsync_dir(m.dir); !st) return st;
  return {};
}

}  // namespace

int run_init(const Options& o) {
  bool root = ::geteuid() == 0;
  if (o.system && !root) return fatal(kExitPerm, "init --system must run as root");
  if (!o.system && root)
    return fatal(kExitPerm,
                 "refusing to make an unprivileged instance as root: root never owns one. "
                 "Run qmailctl init as the user who will own and run the instance "
                 "(e.g. runuser -u USER -- qmailctl init DIR), or use init --system "
                 "for the system instance");
  auto dir = absolute_path(*o.dir, false);
  if (!dir) return fatal(dir.error());
  if (auto st = check_dir_free(*dir); !st) return fatal(st.error());
  std::string me = o.me ? *o.me : host_name();
  if (!valid_me(me)) return fatal(kExitPerm, "host name " + me + " is not usable; give --me NAME");

  Maker m{*dir, own_ids(), o.system};
  if (o.system) {
    auto ids = system_ids(*dir);
    if (!ids) return fatal(ids.error());
    m.ids = *ids;
  }
  ::umask(022);
  if (auto st = populate(m, o, me); !st) {
    int code = fatal(st.error());
    warn("instance " + *dir + " is incomplete: remove it and run init again");
    return code;
  }
  say("qmailctl: made instance " + *dir + " for " + me);
  say("qmailctl: start it with: qmailctl -d " + *dir + " start");
  return kExitOk;
}

}  // namespace qng::ctl

// checkpassword.cc: qmail-checkpassword's logic.
#include "checkpassword.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "address.h"
#include "assign.h"
#include "cdb.h"
#include "fd.h"
#include "instance.h"
#include "passwd.h"
#include "route.h"

namespace qng::checkpw {
namespace {

void say(const std::string& what) {
  (void)write_all(2, "qmail-checkpassword: " + what + "\n");
}

void wipe(std::string& s) { ::explicit_bzero(s.data(), s.size()); }

}  // namespace

std::optional<Credentials> parse_credentials(std::string_view data) {
  size_t z1 = data.find('\0');
  if (z1 == std::string_view::npos) return std::nullopt;
  size_t z2 = data.find('\0', z1 + 1);
  if (z2 == std::string_view::npos) return std::nullopt;
  Credentials c;
  c.login = std::string(data.substr(0, z1));
  c.password = std::string(data.substr(z1 + 1, z2 - z1 - 1));
  std::string_view rest = data.substr(z2 + 1);
  c.timestamp = std::string(rest.substr(0, rest.find('\0')));
  return c;
}

Input read_input(int fd) {
  Input in;
  in.data.reserve(kMaxInput + 1);  // no reallocation leaves copies behind
  char buf[kMaxInput + 1];
  for (;;) {
    auto n = read_some(fd, buf, sizeof buf - in.data.size());
    if (!n) {
      in.failure = n.error().code() == EBADF ? kExitUsage : kExitTemp;
      break;
    }
    if (*n == 0) break;
    in.data.append(buf, *n);
    if (in.data.size() > kMaxInput) {
      in.failure = kExitBad;
      break;
    }
  }
  ::explicit_bzero(buf, sizeof buf);
  return in;
}

Result<std::optional<std::string>> delivery_local(const Control& control,
                                                   std::string_view address) {
  auto locals = control.lines("locals");
  if (!locals) return locals.error();
  if (locals->empty()) {  // qmail-send: locals defaults to me
    auto me = control.line("me");
    if (!me) return me.error();
    if (*me) locals->push_back(**me);
  }
  auto percent = control.lines("percenthack");
  if (!percent) return percent.error();
  auto vdoms = control.lines("virtualdomains");
  if (!vdoms) return vdoms.error();

  AddressMaps maps;
  maps.set_locals(*locals);
  maps.set_percenthack(*percent);
  maps.set_virtualdomains(*vdoms);
  auto r = rewrite_recipient(address, maps, "");
  if (r.channel != kLocal) return std::optional<std::string>();
  return std::optional<std::string>(std::string(split_address(r.address).local));
}

Result<std::optional<Identity>> find_identity(const std::string& home, std::string_view local) {
  auto cdb = CdbReader::open(home + "/users/cdb");
  if (cdb) {
    auto a = assign_lookup(*cdb, local);
    if (!a) return a.error();
    if (a->has_value()) {
      if (!(*a)->ext.empty()) return std::optional<Identity>();
      Identity who{(*a)->user, (*a)->uid, (*a)->gid, (*a)->home};
      return std::optional<Identity>(std::move(who));
    }
  } else if (cdb.error().code() != ENOENT) {
    return cdb.error();
  }

  // qmail-getpw's rule for an exact account name.
  const std::string name = lowercase(local);
  errno = 0;
  struct passwd* pw = ::getpwnam(name.c_str());
  if (!pw) {
    if (errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF && errno != EPERM)
      return Error::last("unable to look up " + name);
    return std::optional<Identity>();
  }
  if (pw->pw_uid == 0) return std::optional<Identity>();
  struct stat st;
  if (::stat(pw->pw_dir, &st) == -1) {
    if (errno == ENOENT) return std::optional<Identity>();
    return Error::last(std::string("unable to stat ") + pw->pw_dir);
  }
  if (st.st_uid != pw->pw_uid) return std::optional<Identity>();
  Identity who{pw->pw_name, pw->pw_uid, pw->pw_gid, pw->pw_dir};
  return std::optional<Identity>(std::move(who));
}

Status become(const Identity& who) {
  if (::geteuid() == 0) {
    if (who.uid == 0) return Error::perm("refusing to run as root for " + who.user);
    gid_t groups[1] = {who.gid};
    if (::setgroups(1, groups) == -1) return Error::last("unable to setgroups");
    if (::setgid(who.gid) == -1) return Error::last("unable to setgid");
    if (::setuid(who.uid) == -1) return Error::last("unable to setuid");
    if (::getuid() != who.uid || ::geteuid() != who.uid || ::getegid() != who.gid)
      return Error::perm("unable to drop privileges");
  } else if (who.uid != ::geteuid()) {
    // Not root and not this user: a check only, far from anyone's files.
    if (::chdir("/") == -1) return Error::last("unable to chdir to /");
    return {};
  }
  if (::chdir(who.home.c_str()) == -1) return Error::last("unable to chdir to " + who.home);
  return {};
}

int run(const std::vector<std::string>& prog) {
  if (prog.empty()) return kExitUsage;
  Input in = read_input(3);
  ::close(3);  // prog must not see it
  if (in.failure) {
    wipe(in.data);
    if (in.failure == kExitTemp) say("unable to read fd 3");
    if (in.failure == kExitUsage) say("fd 3 is not open");
    return in.failure;
  }
  auto creds = parse_credentials(in.data);
  wipe(in.data);
  if (!creds) return kExitUsage;
  wipe(creds->timestamp);

  // Run as root (qmail-popup of the system instance) the instance is where
  // this program lies; otherwise $QMAILHOME first, as any program.
  std::string home;
  if (::geteuid() == 0) {
    auto h = home_from_exe();
    if (!h) {
      wipe(creds->password);
      say(h.error().message());
      return kExitTemp;
    }
    home = *h;
  } else {
    home = home_trusting_env();
  }

  auto ok = check_password(home, creds->login, creds->password);
  wipe(creds->password);
  if (!ok) {
    say(ok.error().message());
    return kExitTemp;
  }
  if (!*ok) return kExitBad;

  auto address = login_address(home, creds->login);
  if (!address) {
    say(address.error().message());
    return kExitTemp;
  }
  auto local = delivery_local(Control(home + "/control"), *address);
  if (!local) {
    say(local.error().message());
    return kExitTemp;
  }
  if (!*local) {
    say(*address + " is not delivered on this host");
    return kExitBad;
  }
  auto who = find_identity(home, **local);
  if (!who) {
    say(who.error().message());
    return kExitTemp;
  }
  if (!*who) {
    say(*address + " has no mailbox of its own here");
    return kExitBad;
  }
  if (auto b = become(**who); !b) {
    say(b.error().message());
    return kExitTemp;
  }
  if (::setenv("USER", address->c_str(), 1) == -1 ||
      ::setenv("HOME", (*who)->home.c_str(), 1) == -1 || ::setenv("SHELL", "/bin/sh", 1) == -1) {
    say("out of memory");
    return kExitTemp;
  }

  std::vector<char*> argv;
  argv.reserve(prog.size() + 1);
  for (const auto& a : prog) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  say("unable to run " + prog[0] + ": " + std::strerror(errno));
  return kExitTemp;
}

}  // namespace qng::checkpw

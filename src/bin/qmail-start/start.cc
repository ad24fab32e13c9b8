// start.cc: qmail-start: the pipes and processes around qmail-send.
//
// qmail-send's descriptors: 0 log (to the logger, or qmail-start's stdout),
// 1 -> qmail-lspawn fd 0, 2 <- qmail-lspawn fd 1, 3 -> qmail-rspawn fd 0,
// 4 <- qmail-rspawn fd 1, 5 -> qmail-clean fd 0, 6 <- qmail-clean fd 1.
// The helpers keep qmail-start's stderr as fd 2 for their own complaints.
//
// In a system instance (root) every process gets qmail's ids, dropped in
// the fixed order setgroups, setgid, setuid, each checked: logger
// qmaill/nofiles, qmail-lspawn root/qmail, qmail-rspawn qmailr/qmail (and
// qmailr's groups), qmail-clean qmailq/qmail, qmail-send qmails/qmail.
// An unprivileged instance changes no ids.
#include "start.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "fd.h"
#include "instance.h"

namespace qng::start {

namespace {

struct Ids {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // the supplementary groups to set
};

struct Plan {
  bool privileged = false;
  Ids logger, lspawn, rspawn, clean, send;
};

Result<uid_t> uid_of(const char* name) {
  errno = 0;
  struct passwd* pw = ::getpwnam(name);
  if (!pw) return Error::temp(std::string("no user ") + name, errno);
  return pw->pw_uid;
}

Result<gid_t> gid_of(const char* name) {
  errno = 0;
  struct group* gr = ::getgrnam(name);
  if (!gr) return Error::temp(std::string("no group ") + name, errno);
  return gr->gr_gid;
}

Result<Plan> make_plan() {
  Plan p;
  p.privileged = ::geteuid() == 0;
  if (!p.privileged) return p;
  auto l = uid_of("qmaill");
  auto q = uid_of("qmailq");
  auto r = uid_of("qmailr");
  auto s = uid_of("qmails");
  auto n = gid_of("nofiles");
  auto g = gid_of("qmail");
  for (const Error* e : {l.ok() ? nullptr : &l.error(), q.ok() ? nullptr : &q.error(),
                         r.ok() ? nullptr : &r.error(), s.ok() ? nullptr : &s.error(),
                         n.ok() ? nullptr : &n.error(), g.ok() ? nullptr : &g.error()})
    if (e) return *e;
  p.logger = {*l, *n, {*n}};
  p.lspawn = {0, *g, {*g}};
  p.clean = {*q, *g, {*g}};
  p.send = {*s, *g, {*g}};
  // notqmail 1.09: qmail-rspawn gets every group qmailr is in.
  int count = 64;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  if (::getgrouplist("qmailr", *g, groups.data(), &count) == -1) {
    groups.resize(static_cast<size_t>(count));
    if (::getgrouplist("qmailr", *g, groups.data(), &count) == -1)
      return Error::temp("unable to read qmailr's groups");
  }
  groups.resize(static_cast<size_t>(count));
  p.rspawn = {*r, *g, groups};
  return p;
}

// The fixed order: groups, gid, uid; each checked. Root keeps uid 0.
bool become(const Plan& plan, const Ids& ids) {
  if (!plan.privileged) return true;
  if (::setgroups(ids.groups.size(), ids.groups.data()) == -1) return false;
  if (::setgid(ids.gid) == -1) return false;
  if (::setuid(ids.uid) == -1) return false;
  return ::getuid() == ids.uid && ::geteuid() == ids.uid;
}

// In a child: say why on stderr and leave.
[[noreturn]] void child_die(const char* who, const char* what) {
  std::string line = std::string("qmail-start: ") + who + ": " + what + ": " +
                     std::strerror(errno) + "\n";
  (void)!::write(2, line.data(), line.size());
  ::_exit(111);
}

// A copy of fd at 10 or above, close-on-exec, so that placing descriptors
// 0..6 never clobbers a source.
Result<Fd> high(Fd fd) {
  int h = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 10);
  if (h == -1) return Error::last("unable to move descriptor");
  return Fd(h);
}

void close_from(int first) {
  if (::close_range(static_cast<unsigned>(first), ~0U, 0) == 0) return;
  for (int fd = first; fd < 1024; ++fd) ::close(fd);
}

struct Pipe {
  Fd rd, wr;
};

Result<Pipe> high_pipe() {
  Fd rd, wr;
  if (auto s = make_pipe(rd, wr); !s) return s.error();
  auto r = high(std::move(rd));
  if (!r) return r.error();
  auto w = high(std::move(wr));
  if (!w) return w.error();
  return Pipe{std::move(*r), std::move(*w)};
}

// Forks a helper: fd 0 = in, fd 1 = out, fd 2 kept, nothing else open.
Result<pid_t> fork_helper(const Plan& plan, const Ids& ids, int in, int out,
                          const char* who, const std::vector<std::string>& argv,
                          bool search_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == -1) return Error::last(std::string("unable to fork ") + who);
  if (pid == 0) {
    if (!become(plan, ids)) child_die(who, "unable to drop privileges");
    if (::dup2(in, 0) == -1) child_die(who, "unable to set up descriptors");
    if (out >= 0 && ::dup2(out, 1) == -1) child_die(who, "unable to set up descriptors");
    close_from(3);
    if (search_path)
      ::execvp(args[0], args.data());
    else
      ::execv(args[0], args.data());
    child_die(who, "unable to run");
  }
  return pid;
}

}  // namespace

Args parse_args(int argc, char** argv) {
  Args a;
  if (argc > 1) a.defaultdelivery = argv[1];
  for (int i = 2; i < argc; ++i) a.logger.emplace_back(argv[i]);
  return a;
}

Error run(const Args& args) {
  if (auto s = ensure_std_fds(); !s) return s.error();
  auto home = home_from_exe();
  if (!home) return home.error();
  if (::chdir(home->c_str()) == -1) return Error::last("unable to chdir to " + *home);
  ::umask(077);
  const std::string bin = *home + "/bin/";
  // Start nothing unless everything can start.
  for (const char* prog : {"qmail-send", "qmail-lspawn", "qmail-rspawn", "qmail-clean"})
    if (::access((bin + prog).c_str(), X_OK) == -1) return Error::last("unable to run " + bin + prog);
  auto planned = make_plan();
  if (!planned) return planned.error();
  const Plan& plan = *planned;
  // Everything below runs from this instance.
  if (::setenv("QMAILHOME", home->c_str(), 1) == -1) return Error::last("unable to set QMAILHOME");
  if (plan.privileged) {
    // qmail: gid qmail for every process first.
    gid_t g = plan.send.gid;
    if (::setgroups(1, &g) == -1 || ::setgid(g) == -1) return Error::last("unable to set gid qmail");
  }

  // fd 1 becomes the logger's stdin; qmail-send gets it as fd 0.
  if (!args.logger.empty()) {
    auto log = high_pipe();
    if (!log) return log.error();
    std::vector<std::string> argv = args.logger;
    bool search = argv[0].find('/') == std::string::npos;
    if (search && ::access((bin + argv[0]).c_str(), X_OK) == 0) {
      argv[0] = bin + argv[0];  // the instance's own logger first
      search = false;
    }
    auto pid = fork_helper(plan, plan.logger, log->rd.get(), -1, "logger", argv, search);
    if (!pid) return pid.error();
    if (::dup2(log->wr.get(), 1) == -1) return Error::last("unable to set up descriptors");
  }

  Pipe p[6];  // send->lspawn, lspawn->send, send->rspawn, rspawn->send, send->clean, clean->send
  for (auto& pp : p) {
    auto made = high_pipe();
    if (!made) return made.error();
    pp = std::move(*made);
  }
  auto l = fork_helper(plan, plan.lspawn, p[0].rd.get(), p[1].wr.get(), "qmail-lspawn",
                       {bin + "qmail-lspawn", args.defaultdelivery}, false);
  if (!l) return l.error();
  auto r = fork_helper(plan, plan.rspawn, p[2].rd.get(), p[3].wr.get(), "qmail-rspawn",
                       {bin + "qmail-rspawn"}, false);
  if (!r) return r.error();
  auto c = fork_helper(plan, plan.clean, p[4].rd.get(), p[5].wr.get(), "qmail-clean",
                       {bin + "qmail-clean"}, false);
  if (!c) return c.error();

  // Become qmail-send.
  if (!become(plan, plan.send)) return Error::last("unable to drop privileges for qmail-send");
  if (::dup2(1, 0) == -1 || ::dup2(p[0].wr.get(), 1) == -1 || ::dup2(p[1].rd.get(), 2) == -1 ||
      ::dup2(p[2].wr.get(), 3) == -1 || ::dup2(p[3].rd.get(), 4) == -1 ||
      ::dup2(p[4].wr.get(), 5) == -1 || ::dup2(p[5].rd.get(), 6) == -1)
    return Error::last("unable to set up descriptors");
  close_from(7);
  std::string send = bin + "qmail-send";
  char* argv[] = {const_cast<char*>("qmail-send"), nullptr};
  ::execv(send.c_str(), argv);
  return Error::last("unable to run " + send);
}

}  // namespace qng::start

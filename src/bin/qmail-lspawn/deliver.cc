// deliver.cc: qmail-lspawn's delivery child: find the account, become it,
// exec qmail-local. Every failure _exits with a qlx code (lspawn.h).
#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <new>

#include "child.h"
#include "error.h"
#include "lspawn.h"

namespace qng::lspawn {

namespace {

// Runs bin/qmail-getpw local (as qmailp in a system instance) and parses
// its six fields; exits with its code when it fails.
Account getpw(const Config& config, const std::string& local) {
  Fd rd;
  Fd wr;
  if (!make_pipe(rd, wr)) ::_exit(kExitSys);
  const char* args[] = {"qmail-getpw", local.c_str(), nullptr};
  pid_t pid = ::fork();
  if (pid == -1) ::_exit(kExitSys);
  if (pid == 0) {
    if (config.privileged) {
      if (::setgroups(0, nullptr) == -1) ::_exit(kExitUsage);
      if (::setgid(config.getpw_gid) == -1) ::_exit(kExitUsage);
      if (::setuid(config.getpw_uid) == -1) ::_exit(kExitUsage);
    }
    if (::dup2(wr.get(), 1) == -1) ::_exit(kExitSys);
    ::execv("bin/qmail-getpw", const_cast<char**>(args));
    ::_exit(kExitExecPw);
  }
  wr.reset();
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = read_some(rd.get(), buf, sizeof buf);
    if (!n) ::_exit(kExitSys);
    if (*n == 0) break;
    if (out.size() + *n > kGetpwMax) ::_exit(kExitUsage);
    out.append(buf, *n);
  }
  auto end = wait_child(pid);
  if (!end || end->crashed) ::_exit(kExitSys);
  if (end->code != 0) ::_exit(end->code);
  auto account = parse_account(out);
  if (!account) ::_exit(kExitUsage);
  return std::move(*account);
}

Account find_account(const Config& config, const std::string& local) {
  auto cdb = CdbReader::open("users/cdb");
  if (!cdb) {
    if (cdb.error().code() != ENOENT) ::_exit(kExitCdb);
  } else {
    auto hit = lookup_users(*cdb, local);
    if (!hit) ::_exit(kExitCdb);
    if (*hit) return std::move(**hit);
  }
  return getpw(config, local);
}

}  // namespace

void deliver(const Config& config, const SpawnCommand& cmd) try {
  size_t at = recipient_at(cmd.recipient);
  std::string local = cmd.recipient.substr(0, at);
  std::string domain = cmd.recipient.substr(at + 1);
  if (local.empty()) ::_exit(0);  // <>: nothing to deliver
  if (::chdir(config.home.c_str()) == -1) ::_exit(kExitUsage);

  Account a = find_account(config, local);
  if (a.uid == 0) ::_exit(kExitRoot);
  if (config.privileged) {
    // No supplementary groups; gid before uid; each step checked.
    if (::setgroups(0, nullptr) == -1) ::_exit(kExitUsage);
    if (::setgid(a.gid) == -1) ::_exit(kExitUsage);
    if (::setuid(a.uid) == -1) ::_exit(kExitUsage);
  } else if (a.uid != ::getuid()) {
    ::_exit(kExitOtherUid);
  }
  if (::getuid() == 0 || ::geteuid() == 0) ::_exit(kExitRoot);

  const char* args[] = {"qmail-local",  "--",          a.user.c_str(),   a.home.c_str(),
                        local.c_str(),  a.dash.c_str(), a.ext.c_str(),   domain.c_str(),
                        cmd.sender.c_str(), config.defaultdelivery.c_str(), nullptr};
  ::execv("bin/qmail-local", const_cast<char**>(args));
  ::_exit(is_temp(errno) ? kExitExecSoft : kExitExecHard);
} catch (const std::bad_alloc&) {
  ::_exit(kExitNoMem);
} catch (...) {
  ::_exit(kExitUsage);
}

SpawnStart start(const Config& config, const SpawnCommand& cmd, const Fd& message) {
  return fork_delivery(message, [&] { deliver(config, cmd); }, kExitSys);
}

}  // namespace qng::lspawn

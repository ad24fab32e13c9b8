// qmail-lspawn: the spawn for local deliveries. Runs as root in a system
// instance; started by qmail-start.
//
// qmail-lspawn defaultdelivery
// fd 0: commands from qmail-send; fd 1: reports to qmail-send (the spawn
// protocol, docs/spawn-protocol.md). For each recipient runs
// QMAILHOME/bin/qmail-local as the user that users/cdb or qmail-getpw names.
// Trusts no environment: the instance is where this program lies. Exits 100
// without defaultdelivery, 0 when qmail-send closes fd 0 and every delivery
// is reported, 111 when it cannot start or qmail-send breaks the protocol.
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "fd.h"
#include "instance.h"
#include "lspawn.h"
#include "spawn.h"

namespace {

int die(const std::string& why) {
  (void)qng::write_all(2, "qmail-lspawn: " + why + "\n");
  return 111;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) return 100;
  if (std::strcmp(argv[1], "--help") == 0) {
    static const char kUsage[] =
        "usage: qmail-lspawn defaultdelivery\n"
        "runs qmail-local for qmail-send's local deliveries (see qmail-lspawn(8))\n";
    return qng::write_all(1, kUsage) ? 0 : 111;
  }
  if (!qng::ensure_std_fds()) return 111;

  qng::lspawn::Config config;
  config.defaultdelivery = argv[1];
  auto home = qng::home_from_exe();
  if (!home) return die(home.error().message());
  config.home = *home;
  config.privileged = ::geteuid() == 0;
  if (config.privileged) {
    struct passwd* pw = ::getpwnam("qmailp");
    if (!pw) return die("no user qmailp");
    config.getpw_uid = pw->pw_uid;
    struct group* gr = ::getgrnam("nofiles");
    if (!gr) return die("no group nofiles");
    config.getpw_gid = gr->gr_gid;
  }
  // qmail-local and qmail-getpw find the instance the same way we did.
  if (::setenv("QMAILHOME", config.home.c_str(), 1) == -1) return die("out of memory");
  if (::chdir(config.home.c_str()) == -1 || ::chdir("queue/mess") == -1)
    return die("unable to chdir to " + config.home + "/queue/mess");

  qng::SpawnProgram program;
  program.start = [&](const qng::SpawnCommand& cmd, const qng::Fd& message) {
    return qng::lspawn::start(config, cmd, message);
  };
  program.report = qng::lspawn::report;
  if (auto s = qng::run_spawn(program); !s) return die(s.error().message());
  return 0;
} catch (const std::bad_alloc&) {
  return die("out of memory");
}

// qmail-rspawn: the spawn for remote deliveries (qmailr in a system
// instance). Started by qmail-start.
//
// qmail-rspawn (no arguments)
// fd 0: commands from qmail-send; fd 1: reports to qmail-send (the spawn
// protocol, docs/spawn-protocol.md). Runs $QMAILREMOTE or
// QMAILHOME/bin/qmail-remote per recipient with cwd QMAILHOME/queue/mess.
// Exits 0 when qmail-send closes fd 0 and every delivery is reported; 111
// when it cannot start or qmail-send breaks the protocol.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "fd.h"
#include "instance.h"
#include "rspawn.h"
#include "spawn.h"
#include "tcpto.h"

namespace {

int die(const std::string& why) {
  (void)qng::write_all(2, "qmail-rspawn: " + why + "\n");
  return 111;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc > 1 && std::strcmp(argv[1], "--help") == 0) {
    static const char kUsage[] =
        "usage: qmail-rspawn\n"
        "runs qmail-remote for qmail-send's remote deliveries (see qmail-rspawn(8))\n";
    return qng::write_all(1, kUsage) ? 0 : 111;
  }
  if (!qng::ensure_std_fds()) return 111;
  std::string home = qng::home_trusting_env();
  if (::setenv("QMAILHOME", home.c_str(), 1) == -1) return die("out of memory");
  if (::chdir(home.c_str()) == -1) return die("unable to chdir to " + home);
  // A restart forgets which hosts timed out (qmail's tcpto_clean), both
  // tables. A missing table is nothing to forget; any other trouble only
  // costs a skipped host for a while, so qmail-rspawn starts anyway.
  (void)qng::tcpto_clear(AF_INET);
  (void)qng::tcpto_clear(AF_INET6);
  if (::chdir("queue/mess") == -1) return die("unable to chdir to " + home + "/queue/mess");

  qng::rspawn::Config config = qng::rspawn::configure(home);
  qng::SpawnProgram program;
  program.output_cap = qng::rspawn::kOutputCap;
  program.truncation_note = false;
  program.start = [&](const qng::SpawnCommand& cmd, const qng::Fd& message) {
    return qng::rspawn::start(config, cmd, message);
  };
  program.report = qng::rspawn::report;
  if (auto s = qng::run_spawn(program); !s) return die(s.error().message());
  return 0;
} catch (const std::bad_alloc&) {
  return die("out of memory");
}

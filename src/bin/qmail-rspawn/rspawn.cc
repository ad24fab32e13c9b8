// rspawn.cc: qmail-rspawn's report rules and delivery start.
#include "rspawn.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace qng::rspawn {

namespace {

// 1 K, 0 Z, -1 D.
int rank_of(char c) { return c == 'K' ? 1 : c == 'Z' ? 0 : -1; }

}  // namespace

std::string report(int wstat, std::string_view out) {
  if (!WIFEXITED(wstat)) return kCrashed;
  switch (WEXITSTATUS(wstat)) {
    case 0: break;
    case kExitCannotRun: return kCannotRun;
    case 111: return kRunTemp;
    default: return kRunPerm;
  }
  if (out.empty()) return kNoOutput;

  // Records are `letter text \0`; bytes after the last NUL are ignored.
  std::vector<std::string_view> recs;
  for (size_t pos = 0;;) {
    size_t nul = out.find('\0', pos);
    if (nul == std::string_view::npos) break;
    recs.push_back(out.substr(pos, nul - pos));
    pos = nul + 1;
  }
  if (recs.empty()) return kMangled;

  // The message result; no K/Z/D record at all is unknown, so temporary
  // (qmail took it as permanent).
  int result = 0;
  size_t msg = recs.size();
  for (size_t i = 0; i < recs.size(); ++i) {
    if (!recs[i].empty() && (recs[i][0] == 'K' || recs[i][0] == 'Z' || recs[i][0] == 'D')) {
      result = rank_of(recs[i][0]);
      msg = i;
      break;
    }
  }
  if (msg == recs.size()) result = 0;
  int orr = result;
  char first = recs[0].empty() ? 0 : recs[0][0];
  if (first == 's') orr = 0;
  if (first == 'h') orr = -1;

  std::string r(1, orr == 1 ? 'K' : orr == 0 ? 'Z' : 'D');
  if (!recs[0].empty()) r += recs[0].substr(1);
  // The record after the first, when it is the message report and the
  // message went no better than the recipient.
  if (result <= orr && recs.size() > 1 && !recs[1].empty() &&
      (recs[1][0] == 'K' || recs[1][0] == 'Z' || recs[1][0] == 'D'))
    r += recs[1].substr(1);
  return r;
}

Config configure(const std::string& home) {
  Config c;
  if (const char* qr = std::getenv("QMAILREMOTE"); qr && *qr) {
    c.remote = qr;
    c.search_path = c.remote.find('/') == std::string::npos;
  } else {
    c.remote = home + "/bin/qmail-remote";
  }
  return c;
}

SpawnStart start(const Config& config, const SpawnCommand& cmd, const Fd& message) {
  size_t at = recipient_at(cmd.recipient);
  // Built before fork: the child only execs or exits.
  std::string host = cmd.recipient.substr(at + 1);
  const char* args[] = {config.remote.c_str(), host.c_str(), cmd.sender.c_str(),
                        cmd.recipient.c_str(), nullptr};
  char** argv = const_cast<char**>(args);
  return fork_delivery(message, [&] {
    if (config.search_path)
      ::execvp(argv[0], argv);
    else
      ::execv(argv[0], argv);
    ::_exit(kExitCannotRun);
  }, 111);
}

}  // namespace qng::rspawn

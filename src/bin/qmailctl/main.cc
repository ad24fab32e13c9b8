// qmailctl: manage a qmail-ng instance. See qmailctl(8).
//   qmailctl [-d DIR] init|start|stop|restart|stat|queue|doqueue|reload|cdb|passwd|dkim-keygen|
//                     check|adddomain|deldomain|adduser|deluser|addalias|listusers
// Exit codes: 0 done, 100 usage or permanent error, 111 temporary failure.
#include <signal.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "check.h"
#include "commands.h"
#include "failure.h"
#include "fd.h"
#include "layout.h"
#include "manage.h"
#include "options.h"
#include "say.h"

using namespace qng;
using namespace qng::ctl;

namespace {

int usage_error(const std::string& what) {
  std::string s = "qmailctl: " + what + "\n" + kUsage;
  (void)write_all(2, s);
  return kExitPerm;
}

// -d DIR, else $QMAILHOME, else /var/qmail; resolved to an absolute path.
Result<std::string> instance_dir(const Options& o) {
  std::string d = o.dir ? *o.dir : "";
  if (d.empty()) {
    const char* h = std::getenv("QMAILHOME");
    d = h && *h ? h : "/var/qmail";
  }
  return absolute_path(d, true);
}

ManageOptions manage_options(const Options& o) {
  return ManageOptions{o.force, o.keep_mail, o.password_stdin};
}

int dispatch(const Options& o) {
  if (o.command == Command::kHelp) {
    (void)write_all(1, kUsage);
    return kExitOk;
  }
  if (o.command == Command::kInit) return run_init(o);
  auto dir = instance_dir(o);
  if (!dir) return o.command == Command::kCheck ? fatal(kExitTemp, dir.error().message())
                                                : fatal(dir.error());
  switch (o.command) {
    case Command::kStart: return run_start(*dir);
    case Command::kStop: return run_stop(*dir);
    case Command::kRestart: return run_restart(*dir);
    case Command::kStat: return run_stat(*dir);
    case Command::kQueue: return run_queue(*dir);
    case Command::kDoqueue: return run_signal(*dir, SIGALRM);
    case Command::kReload: return run_signal(*dir, SIGHUP);
    case Command::kCdb: return run_cdb(*dir);
    case Command::kPasswd: return run_passwd(*dir, o.args.at(0));
    case Command::kDkimKeygen:
      return run_dkim_keygen(*dir, o.args.at(0), o.args.size() > 1 ? o.args[1] : "", o.ed25519);
    case Command::kCheck: return run_check(*dir);
    case Command::kAddDomain: return run_adddomain(*dir, o.args.at(0));
    case Command::kDelDomain: return run_deldomain(*dir, o.args.at(0), manage_options(o));
    case Command::kAddUser: return run_adduser(*dir, o.args.at(0), manage_options(o));
    case Command::kDelUser: return run_deluser(*dir, o.args.at(0), manage_options(o));
    case Command::kAddAlias:
      return run_addalias(*dir, o.args.at(0), {o.args.begin() + 1, o.args.end()});
    case Command::kListUsers: return run_listusers(*dir, o.args.empty() ? "" : o.args[0]);
    default: return usage_error("unknown command");
  }
}

}  // namespace

int main(int argc, char** argv) try {
  std::vector<std::string> args(argv, argv + argc);
  auto o = parse_args(args);
  if (!o) return usage_error(o.error().context());
  return dispatch(*o);
} catch (...) {
  return fatal(kExitTemp, "out of memory");
}

// sendmail [-t] [-fsender] [-Fname] [-bp] [-bs] [arg ...]: the sendmail
// interface to qmail. Runs HOME/bin/qmail-inject (-H with -t, else -a with
// the arguments as recipients), qmail-qread for -bp or as mailq, and
// qmail-smtpd for -bs. Exit: that program's, or 100 (usage, newaliases),
// 111 (it could not be run).
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "failure.h"
#include "fd.h"
#include "instance.h"
#include "sendmail.h"

namespace {

using namespace qng;
using qng::sendmail::Plan;

void say(int fd, const std::string& text) { (void)write_all(fd, text); }

int fatal(int code, const std::string& text) {
  say(2, "sendmail: fatal: " + text + "\n");
  return code;
}

std::string base_name(const char* argv0) {
  std::string s = argv0 ? argv0 : "sendmail";
  size_t slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

int run(const std::string& progname, const std::vector<std::string>& args) {
  Plan p = sendmail::plan(progname, args, std::getenv("PROTO") != nullptr);
  switch (p.what) {
    case Plan::kHelp:
      say(1, std::string("usage: ") + sendmail::kUsage + "\n");
      return kExitOk;
    case Plan::kUsage:
      say(2, std::string("sendmail: usage: ") + sendmail::kUsage + "\n");
      return kExitPerm;
    case Plan::kNewaliases:
      return fatal(kExitPerm, "please use fastforward/newaliases instead");
    default:
      break;
  }

  std::string home = home_trusting_env();
  if (::chdir(home.c_str()) == -1)
    return fatal(kExitTemp, "unable to switch to qmail home directory");

  const char* program = p.what == Plan::kInject  ? "qmail-inject"
                        : p.what == Plan::kQread ? "qmail-qread"
                                                 : "qmail-smtpd";
  for (const auto& [name, value] : p.env) {
    int r = value ? ::setenv(name.c_str(), value->c_str(), 1) : ::unsetenv(name.c_str());
    if (r == -1) return fatal(kExitTemp, "out of memory");
  }
  std::string path = home + "/bin/" + program;
  std::vector<char*> argv;
  argv.push_back(path.data());
  for (auto& a : p.args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(path.c_str(), argv.data());
  return fatal(kExitTemp, std::string("unable to run ") + program + ": " + std::strerror(errno));
}

}  // namespace

int main(int argc, char** argv) try {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  return run(base_name(argc > 0 ? argv[0] : nullptr), args);
} catch (...) {
  say(2, "sendmail: fatal: out of memory\n");
  return qng::kExitTemp;
}

// datemail [sendmail arguments]: sendmail with a Date field in local time
// added in front of the message (qmail's "predate sendmail"). Runs
// HOME/bin/sendmail. Exit: sendmail's; 111 when it cannot be run.
#include <ctime>
#include <string>
#include <vector>

#include "failure.h"
#include "fd.h"
#include "instance.h"
#include "prefix.h"

namespace {

using namespace qng;

void say(int fd, const std::string& text) { (void)write_all(fd, text); }

int run(const std::vector<std::string>& args) {
  if (args.size() == 1 && args[0] == "--help") {
    say(1, "usage: datemail [ sendmail arguments ]\n");
    return kExitOk;
  }
  std::vector<std::string> argv{home_trusting_env() + "/bin/sendmail"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto code = predate::run_with_prefix("datemail", argv, predate::local_date_line(::time(nullptr)));
  if (!code) {
    say(2, "datemail: fatal: " + code.error().message() + "\n");
    return kExitTemp;
  }
  return *code;
}

}  // namespace

int main(int argc, char** argv) try {
  return run(std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc));
} catch (...) {
  say(2, "datemail: fatal: out of memory\n");
  return qng::kExitTemp;
}

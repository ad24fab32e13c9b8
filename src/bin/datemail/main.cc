// datemail [sendmail arguments]: sendmail with a Date field in local time
// added in front of the message (qmail's "predate sendmail"). Runs
// HOME/bin/sendmail. Exit: sendmail's; 111 when it cannot be run.
#include <ctime>
#include <string>
#include <vector>

#include "instance.h"
#include "prefix.h"

namespace {

using namespace qng;

constexpr predate::Program kDatemail{"datemail", "datemail [ sendmail arguments ]", 0};

int run(const std::vector<std::string>& args) {
  std::vector<std::string> argv{home_trusting_env() + "/bin/sendmail"};
  argv.insert(argv.end(), args.begin(), args.end());
  return predate::run_prefixed(kDatemail, argv, predate::local_date_line(::time(nullptr)));
}

}  // namespace

int main(int argc, char** argv) { return predate::program_main(kDatemail, argc, argv, run); }

// mailsubj subject recipient [...]: sends standard input as the body of a
// message with that Subject, To the recipients, through HOME/bin/qmail-inject
// (which takes the recipients from the To field). CR and LF in the
// arguments become spaces, so they cannot add header fields.
// Exit: qmail-inject's; 100 usage; 111 when it cannot be run.
#include <string>
#include <vector>

#include "failure.h"
#include "fd.h"
#include "instance.h"
#include "prefix.h"

namespace {

using namespace qng;

constexpr const char* kUsage = "mailsubj subject recipient [ recipient ... ]";

void say(int fd, const std::string& text) { (void)write_all(fd, text); }

int run(const std::vector<std::string>& args) {
  if (args.size() == 1 && args[0] == "--help") {
    say(1, std::string("usage: ") + kUsage + "\n");
    return kExitOk;
  }
  if (args.size() < 2) {
    say(2, std::string("mailsubj: usage: ") + kUsage + "\n");
    return kExitPerm;
  }
  std::string header = "Subject: " + predate::one_line(args[0]) + "\nTo:";
  for (size_t i = 1; i < args.size(); ++i) header += " " + predate::one_line(args[i]);
  header += "\n\n";
  auto code = predate::run_with_prefix("mailsubj", {home_trusting_env() + "/bin/qmail-inject"},
                                       header);
  if (!code) {
    say(2, "mailsubj: fatal: " + code.error().message() + "\n");
    return kExitTemp;
  }
  return *code;
}

}  // namespace

int main(int argc, char** argv) try {
  return run(std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc));
} catch (...) {
  say(2, "mailsubj: fatal: out of memory\n");
  return qng::kExitTemp;
}

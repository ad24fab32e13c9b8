// predate child [arg ...]: runs child with its standard input a Date field
// in local time ("Date: Sun, 03 Mar 2024 10:05:01 +0100") followed by
// predate's own standard input. Exit: the child's; 100 usage; 111 when the
// child cannot be run or crashed.
#include <ctime>
#include <string>
#include <vector>

#include "failure.h"
#include "fd.h"
#include "prefix.h"

namespace {

using namespace qng;

constexpr const char* kUsage = "predate child [ arg ... ]";

void say(int fd, const std::string& text) { (void)write_all(fd, text); }

int run(const std::vector<std::string>& args) {
  if (args.size() == 1 && args[0] == "--help") {
    say(1, std::string("usage: ") + kUsage + "\n");
    return kExitOk;
  }
  if (args.empty()) {
    say(2, std::string("predate: usage: ") + kUsage + "\n");
    return kExitPerm;
  }
  auto code = predate::run_with_prefix("predate", args, predate::local_date_line(::time(nullptr)));
  if (!code) {
    say(2, "predate: fatal: " + code.error().message() + "\n");
    return kExitTemp;
  }
  return *code;
}

}  // namespace

int main(int argc, char** argv) try {
  return run(std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc));
} catch (...) {
  say(2, "predate: fatal: out of memory\n");
  return qng::kExitTemp;
}

// say.cc: qmailctl's output.
#include "say.h"

#include <string>

#include "failure.h"
#include "fd.h"

namespace qng::ctl {

namespace {

void put(int fd, std::string_view a, std::string_view b) {
  std::string s;
  s.reserve(a.size() + b.size() + 1);
  s.append(a).append(b).push_back('\n');
  (void)write_all(fd, s);  // nothing sensible to do if stdout is gone
}

}  // namespace

void say(std::string_view line) { put(1, "", line); }
void warn(std::string_view line) { put(2, "qmailctl: warning: ", line); }

int fatal(int code, std::string_view line) {
  put(2, "qmailctl: fatal: ", line);
  return code;
}

int fatal(const Error& e) { return fatal(e.permanent() ? kExitPerm : kExitTemp, e.message()); }

}  // namespace qng::ctl

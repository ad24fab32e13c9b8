// instance.cc: finding QMAILHOME.
#include "instance.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace qng {

Result<std::string> home_from_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0) return Error::last("unable to read /proc/self/exe");
  if (static_cast<size_t>(n) >= sizeof buf - 1) return Error::temp("program path too long");
  std::string exe(buf, static_cast<size_t>(n));
  auto slash = exe.rfind('/');
  if (slash == std::string::npos || slash == 0) return Error::temp("odd program path " + exe);
  std::string bindir = exe.substr(0, slash);
  slash = bindir.rfind('/');
  if (slash == std::string::npos) return Error::temp("odd program path " + exe);
  std::string home = slash == 0 ? "/" : bindir.substr(0, slash);
  return home;
}

std::string home_trusting_env() {
  if (const char* h = std::getenv("QMAILHOME"); h && h[0] == '/') return h;
  if (auto h = home_from_exe()) {
    struct stat st;
    if (::stat((*h + "/control").c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return *h;
  }
  return kSystemHome;
}

bool unprivileged() { return ::geteuid() != 0; }

}  // namespace qng

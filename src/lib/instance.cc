// instance.cc: finding QMAILHOME.
#include "instance.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace qng {

Result<std::string> exe_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0) return Error::last("unable to read /proc/self/exe");
  if (static_cast<size_t>(n) >= sizeof buf - 1) return Error::temp("program path too long");
  std::string_view exe(buf, static_cast<size_t>(n));
  auto slash = exe.rfind('/');
  if (slash == std::string_view::npos) return Error::temp("odd program path");
  if (slash == 0) return std::string("/");
  return std::string(exe.substr(0, slash));
}

Result<std::string> home_from_exe() {
  auto bindir = exe_dir();
  if (!bindir) return bindir.error();
  std::string_view b = *bindir;
  auto slash = b.rfind('/');
  if (slash == std::string_view::npos || b == "/") return Error::temp("odd program path " + *bindir);
  if (slash == 0) return std::string("/");
  return std::string(b.substr(0, slash));
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

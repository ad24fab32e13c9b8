// qmail-newmrh: compile QMAILHOME/control/morercpthosts into
// control/morercpthosts.cdb (keys lowercased, empty data). No arguments.
//
// Writes control/morercpthosts.cdb.tmp, fsyncs it, renames it and fsyncs
// control/. Exit 0, or 111 with `qmail-newmrh: fatal: ...` on stderr and
// the old morercpthosts.cdb left as it was.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "atomic.h"
#include "failure.h"
#include "instance.h"
#include "morercpthosts.h"

namespace {

int fatal(const std::string& what) {
  std::fprintf(stderr, "qmail-newmrh: fatal: %s\n", what.c_str());
  return qng::kExitTemp;
}

int run() {
  ::umask(033);
  std::string home = qng::home_trusting_env();
  if (::chdir(home.c_str()) == -1)
    return fatal("unable to chdir to " + home + ": " + std::strerror(errno));
  auto text = qng::read_file("control/morercpthosts", qng::kMaxMoreRcptHostsBytes);
  if (!text) {
    int err = text.error().code();
    if (err == E2BIG) return fatal("control/morercpthosts is too big");
    return fatal(std::string("unable to read control/morercpthosts: ") + std::strerror(err));
  }
  if (auto s = qng::write_morercpthosts_cdb(*text, "control/morercpthosts.cdb"); !s)
    return fatal(s.error().message());
  return qng::kExitOk;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc > 1 && std::strcmp(argv[1], "--help") == 0) {
    std::fputs("usage: qmail-newmrh\n"
               "compiles QMAILHOME/control/morercpthosts into control/morercpthosts.cdb\n",
               stdout);
    return 0;
  }
  return run();
} catch (...) {
  return fatal("out of memory");
}

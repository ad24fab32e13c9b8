// qmail-tcpok: forgets every connection timeout qmail-remote recorded, by
// zeroing queue/lock/tcpto (and queue/lock/tcpto6 when it exists). Run it
// as root or as the owner of the tables. Exit 0, or 111 with a message on
// stderr.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "fd.h"
#include "instance.h"
#include "tcpto.h"

namespace {

constexpr const char* kFatal = "qmail-tcpok: fatal: ";

int die(const std::string& why) {
  (void)qng::write_all(2, kFatal + why + "\n");
  return 111;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    static const char kUsage[] =
        "usage: qmail-tcpok\n"
        "clears the connection timeout table of qmail-remote (see qmail-tcpok(8))\n";
    return qng::write_all(1, kUsage) ? 0 : 111;
  }
  std::string home = qng::home_trusting_env();
  if (::chdir(home.c_str()) == -1)
    return die("unable to chdir to " + home + ": " + std::strerror(errno));
  if (auto s = qng::tcpto_clear(AF_INET); !s)
    return die("unable to clear " + home + "/" + qng::kTcptoPath + ": " + s.error().message());
  if (auto s = qng::tcpto_clear(AF_INET6); !s && s.error().code() != ENOENT)
    return die("unable to clear " + home + "/" + qng::kTcpto6Path + ": " + s.error().message());
  return 0;
} catch (...) {
  return die("out of memory");
}

// qmail-tcpto: prints the table of addresses whose SMTP connections timed
// out (queue/lock/tcpto, and queue/lock/tcpto6 for IPv6), one line each:
//   ADDRESS timed out N seconds ago; # recent timeouts: C
// Output and errors on stdout as qmail's. Exit 0, or 111 when the table
// cannot be read.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "fd.h"
#include "instance.h"
#include "tcpto.h"

namespace {

int die(std::string out, const std::string& why) {
  out += "fatal: " + why + "\n";
  (void)qng::write_all(1, out);
  return 111;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    static const char kUsage[] =
        "usage: qmail-tcpto\n"
        "prints the hosts qmail-remote skips after connection timeouts (see qmail-tcpto(8))\n";
    return qng::write_all(1, kUsage) ? 0 : 111;
  }
  std::string out;
  std::string home = qng::home_trusting_env();
  if (::chdir(home.c_str()) == -1)
    return die(out, std::string("unable to chdir: ") + std::strerror(errno));
  time_t t = ::time(nullptr);
  uint64_t start = t < 0 ? 0 : static_cast<uint64_t>(t);
  for (int family : {AF_INET, AF_INET6}) {
    auto table = qng::tcpto_read(family);
    if (!table) {
      // tcpto6 is ours and may not exist yet: nothing timed out there.
      if (family == AF_INET6 && table.error().code() == ENOENT) continue;
      return die(out, "unable to read tcpto: " + table.error().message());
    }
    for (const qng::TcptoRecord& r : qng::tcpto_records(*table, family)) {
      uint64_t ago = start >= r.when ? start - r.when : 0;
      out += qng::format_ip(r.ip) + " timed out " + std::to_string(ago) +
             " seconds ago; # recent timeouts: " + std::to_string(r.count) + "\n";
    }
  }
  return qng::write_all(1, out) ? 0 : 111;
} catch (...) {
  (void)qng::write_all(1, "fatal: out of memory\n");
  return 111;
}

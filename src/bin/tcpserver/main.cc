// tcpserver [ -146dDhHpPrRoOvqQUX ] [ -c limit ] [ -C per-ip-limit ] [ -M text ]
//   [ -x rules.cdb ] [ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ]
//   [ -l localname ] [ -t timeout ] [ -I interface ] host port program [ arg ... ]
//
// Accepts TCP connections on host:port and runs program for each, with fd 0
// and 1 on the socket and the tcp-environ(5) variables set; ucspi-tcp's
// tcpserver, see tcpserver(1). Messages go to fd 2.
// Exit codes: 0 after SIGTERM; 100 usage; 111 unable to resolve, bind,
// listen or drop privileges. A child exits 100 on a deny rule and 111 when
// it drops a connection.
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fd.h"
#include "tcpserver.h"

int main(int argc, char** argv) try {
  if (argc == 2 && std::string_view(argv[1]) == "--help") {
    (void)qng::write_all(1, qng::kServerUsage + std::string_view("tcpserver: ").size());
    return 0;
  }
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  auto opt = qng::parse_server_options(args, [](const char* n) { return std::getenv(n); });
  if (!opt) {
    (void)qng::write_all(2, "tcpserver: fatal: " + opt.error().message() + "\n");
    (void)qng::write_all(2, qng::kServerUsage);
    return 100;
  }
  return qng::run_server(*opt);
} catch (...) {
  (void)qng::write_all(2, "tcpserver: fatal: out of memory\n");
  return 111;
}

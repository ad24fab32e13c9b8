// tcpserver.h: tcpserver's options, addresses and log text (the parts unit
// tests call), and the entry points of the listener and of its children.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace qng {

struct ServerOptions {
  std::string host;
  std::string port;
  std::vector<std::string> program;  // program and its arguments
  unsigned long limit = 40;          // -c: simultaneous children
  unsigned long per_ip = 0;          // -C: children per client address; 0 = any
  std::string per_ip_text;           // -M: written to a client over -C
  std::string rules;                 // -x rules.cdb
  bool allow_no_rules = false;       // -X: a missing rules.cdb allows all
  std::string banner;                // -B
  uid_t uid = 0;                     // -u (0: unchanged)
  gid_t gid = 0;                     // -g (0: unchanged)
  bool print_port = false;           // -1
  int family = AF_UNSPEC;            // -4 AF_INET, -6 AF_INET6
  int backlog = 20;                  // -b
  int verbosity = 1;                 // -q 0, -Q 1, -v 2
  bool remote_host = false;          // -h (default -H: no lookups)
  bool paranoid = false;             // -p
  bool remote_info = false;          // -r: accepted; ident is not supported
  bool kill_ip_options = true;       // -O (default), -o
  bool nodelay = false;              // -D; -d (default) leaves Nagle on
  std::optional<std::string> local_host;  // -l
  unsigned long timeout = 26;        // -t: accepted; ident is not supported
  std::string interface;             // -I: accepted and ignored
};

constexpr char kServerUsage[] =
    "tcpserver: usage: tcpserver [ -146dDhHpPrRoOvqQUX ] [ -c limit ] [ -C per-ip-limit ]"
    " [ -M text ] [ -x rules.cdb ] [ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ]"
    " [ -l localname ] [ -t timeout ] [ -I interface ] host port program [ arg ... ]\n";

// getopt-style: grouped letters, an option's argument attached or next;
// options end at the first non-option or "--". -U reads $UID and $GID
// through getenv_fn. A usage error is a permanent Error saying what is
// wrong.
using GetenvFn = std::function<const char*(const char*)>;
Result<ServerOptions> parse_server_options(const std::vector<std::string>& args,
                                           const GetenvFn& getenv_fn);

// A port number, or a service name from /etc/services.
Result<uint16_t> resolve_port(const std::string& port);

// The address to listen on: "" and "0" mean every local IPv4 address (every
// IPv6 and IPv4 address with -6: "::"); an IPv4 or IPv6 literal (brackets
// allowed); else the first address of that name (of `family` if not
// AF_UNSPEC).
struct SocketAddress {
  struct sockaddr_storage ss {};
  socklen_t len = 0;
  int family() const { return ss.ss_family; }
};
Result<SocketAddress> resolve_listen_address(const std::string& host, int family, uint16_t port);

// An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d; unless
// force_v6, it is turned into the plain IPv4 address (PROTO=TCP, dotted
// TCPREMOTEIP), as ucspi-tcp's IPv6 fork does.
void unmap_v4(SocketAddress& a, bool force_v6);
// "1.2.3.4" or "2001:db8::1" (inet_ntop), and the port.
std::string address_text(const SocketAddress& a);
uint16_t address_port(const SocketAddress& a);

// ucspi-tcp's safecats for the ok/deny log line: at most 100 bytes; bytes
// outside 33..126, '%' and ':' become '?'; "..." marks a cut. An IP address
// keeps its colons (as the IPv6 forks of ucspi-tcp log them).
std::string safe_log_text(std::string_view s, bool keep_colons = false);

// The listener: binds, drops privileges, accepts until SIGTERM.
// Returns the exit code (0 after SIGTERM, 111 when it cannot listen).
int run_server(const ServerOptions& opt);

// In a freshly forked child: sets up the environment for one connection
// `sock`, follows the rules, and execs the program with fd 0 and 1 on the
// socket. Never returns (exit 100 on deny, 111 when it cannot go on).
[[noreturn]] void serve_connection(const ServerOptions& opt, int sock, const SocketAddress& remote);

}  // namespace qng

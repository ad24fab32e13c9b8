// connection.cc: one connection, in tcpserver's forked child: banner,
// tcp-environ(5) variables, rules, log line, then exec the program with
// fd 0 and 1 on the socket. Steps and texts follow ucspi-tcp's doit().
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cdb.h"
#include "fd.h"
#include "tcprules.h"
#include "tcpserver.h"

namespace qng {

namespace {

constexpr char kDrop[] = "tcpserver: warning: dropping connection, ";

void warn(const ServerOptions& opt, const std::string& line) {
  if (opt.verbosity >= 1) (void)write_all(2, line + "\n");
}

[[noreturn]] void drop(const ServerOptions& opt, const std::string& why, int err) {
  std::string s = kDrop + why;
  if (err != 0) s += std::string(": ") + std::strerror(err);
  warn(opt, s);
  ::_exit(111);
}

// setenv, or unsetenv for an absent value; out of memory drops.
void env(const ServerOptions& opt, const char* name, const std::string* value) {
  int rc = value ? ::setenv(name, value->c_str(), 1) : ::unsetenv(name);
  if (rc == -1 && errno == ENOMEM) drop(opt, "out of memory", 0);
}

void env(const ServerOptions& opt, const char* name, const std::string& value) {
  env(opt, name, &value);
}

// The host's name in DNS, "" when it has none or the lookup fails.
std::string reverse_name(const SocketAddress& a) {
  char host[NI_MAXHOST];
  if (::getnameinfo(reinterpret_cast<const struct sockaddr*>(&a.ss), a.len, host, sizeof host,
                    nullptr, 0, NI_NAMEREQD) != 0)
    return "";
  return host;
}

// -p: the name must lead back to the address.
bool forward_confirms(const std::string& name, const SocketAddress& a) {
  struct addrinfo hints {};
  hints.ai_family = a.family();
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* res = nullptr;
  if (::getaddrinfo(name.c_str(), nullptr, &hints, &res) != 0) return false;
  bool ok = false;
  for (struct addrinfo* p = res; p && !ok; p = p->ai_next) {
    if (p->ai_family == AF_INET && a.family() == AF_INET) {
      const auto* x = reinterpret_cast<const struct sockaddr_in*>(p->ai_addr);
      const auto* y = reinterpret_cast<const struct sockaddr_in*>(&a.ss);
      ok = x->sin_addr.s_addr == y->sin_addr.s_addr;
    } else if (p->ai_family == AF_INET6 && a.family() == AF_INET6) {
      const auto* x = reinterpret_cast<const struct sockaddr_in6*>(p->ai_addr);
      const auto* y = reinterpret_cast<const struct sockaddr_in6*>(&a.ss);
      ok = std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
  }
  ::freeaddrinfo(res);
  return ok;
}

// Back to the signal handling a program expects: nothing blocked that we
// blocked, nothing ignored that we ignored.
void restore_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  ::sigprocmask(SIG_UNBLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::signal(SIGCHLD, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
}

// -x: follows the first rule for this client. Returns true to deny.
bool follow_rules(const ServerOptions& opt, const std::string& ip, const std::string& host) {
  auto db = CdbReader::open(opt.rules);
  if (!db) {
    if (db.error().code() == ENOENT && opt.allow_no_rules) return false;
    drop(opt, "unable to read " + opt.rules, db.error().code() == 0 ? EPROTO : db.error().code());
  }
  auto rule = find_rule(*db, ip, host, "");
  if (!rule) drop(opt, "unable to read " + opt.rules, rule.error().code() ? rule.error().code() : EPROTO);
  if (!*rule) return false;
  for (const auto& [name, value] : (*rule)->env) {
    if (name.empty()) continue;
    env(opt, name.c_str(), value ? &*value : nullptr);
  }
  return (*rule)->deny;
}

}  // namespace

void serve_connection(const ServerOptions& opt, int sock, const SocketAddress& remote) {
  restore_signals();
  std::string pid = std::to_string(::getpid());
  std::string remote_ip = address_text(remote);
  std::string remote_port = std::to_string(address_port(remote));
  if (opt.verbosity >= 2) warn(opt, "tcpserver: pid " + pid + " from " + remote_ip);

  bool v6 = remote.family() == AF_INET6;
  int one = 1;
  if (opt.kill_ip_options && !v6) (void)::setsockopt(sock, IPPROTO_IP, IP_OPTIONS, nullptr, 0);
  if (opt.nodelay) (void)::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  // The banner goes out before any lookup, to cut the client's wait.
  if (!opt.banner.empty()) {
    if (auto st = write_all(sock, opt.banner); !st)
      drop(opt, "unable to print banner", st.error().code());
  }

  SocketAddress local;
  local.len = sizeof local.ss;
  if (::getsockname(sock, reinterpret_cast<struct sockaddr*>(&local.ss), &local.len) == -1)
    drop(opt, "unable to get local address", errno);
  unmap_v4(local, opt.family == AF_INET6);
  std::string local_ip = address_text(local);
  std::string local_port = std::to_string(address_port(local));
  std::string local_host;
  if (opt.local_host) {
    local_host = *opt.local_host;
  } else if (opt.remote_host) {
    local_host = reverse_name(local);
  }

  env(opt, "PROTO", std::string(v6 ? "TCP6" : "TCP"));
  env(opt, "TCPLOCALIP", local_ip);
  env(opt, "TCPLOCALPORT", local_port);
  env(opt, "TCPLOCALHOST", local_host.empty() ? nullptr : &local_host);

  std::string remote_host;
  if (opt.remote_host) {
    remote_host = reverse_name(remote);
    if (!remote_host.empty() && opt.paranoid && !forward_confirms(remote_host, remote))
      remote_host.clear();
  }
  env(opt, "TCPREMOTEIP", remote_ip);
  env(opt, "TCPREMOTEPORT", remote_port);
  env(opt, "TCPREMOTEHOST", remote_host.empty() ? nullptr : &remote_host);
  env(opt, "TCPREMOTEINFO", nullptr);  // no ident lookups (-R)

  bool deny = !opt.rules.empty() && follow_rules(opt, remote_ip, remote_host);

  if (opt.verbosity >= 2) {
    std::string s = "tcpserver: ";
    s += deny ? "deny" : "ok";
    s += " " + pid + " " + safe_log_text(local_host) + ":" + safe_log_text(local_ip, true) +
         ":" + local_port + " " + safe_log_text(remote_host) + ":" +
         safe_log_text(remote_ip, true) + "::" + remote_port;
    warn(opt, s);
  }
  if (deny) ::_exit(100);

  if (::dup2(sock, 0) == -1 || ::dup2(sock, 1) == -1)
    drop(opt, "unable to set up descriptors", errno);
  if (sock > 1) ::close(sock);

  std::vector<char*> argv;
  for (const auto& a : opt.program) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  drop(opt, "unable to run " + opt.program[0], errno);
}

}  // namespace qng

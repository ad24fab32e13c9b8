// server.cc: tcpserver's listener: bind, drop privileges, then one event
// loop over the listening socket and a signalfd (SIGCHLD, SIGTERM). With
// -c children running the socket is not polled, so new clients wait in the
// kernel's backlog; a client over -C gets the -M text and is closed.
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_map>

#include "fd.h"
#include "tcpserver.h"

namespace qng {

namespace {

constexpr int kAcceptBatch = 64;     // accepts per loop turn, so signals get their turn
constexpr int kBackoffMs = 100;      // pause after EMFILE and friends

class Server {
 public:
  explicit Server(const ServerOptions& opt) : opt_(opt) {}
  int run();

 private:
  void say(const std::string& line) const {
    if (opt_.verbosity >= 1) (void)write_all(2, "tcpserver: " + line + "\n");
  }
  void status() const {
    if (opt_.verbosity >= 2)
      say("status: " + std::to_string(count_) + "/" + std::to_string(opt_.limit));
  }
  int fatal(const std::string& what) const {
    say("fatal: " + what);
    return 111;
  }
  Status listen_socket(const SocketAddress& addr);
  Status drop_privileges() const;
  // false when SIGTERM asks us to stop.
  bool handle_signals();
  void reap();
  void accept_some();
  void start_child(Fd sock, SocketAddress remote);

  const ServerOptions& opt_;
  Fd listener_;
  Fd signals_;
  unsigned long count_ = 0;
  bool backoff_ = false;
  std::unordered_map<pid_t, std::string> children_;     // pid -> client address
  std::unordered_map<std::string, unsigned long> per_ip_;  // client address -> children
};

Status Server::listen_socket(const SocketAddress& addr) {
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd == -1) return Error::last("unable to create socket");
  listener_.reset(fd);
  int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1)
    return Error::last("unable to set SO_REUSEADDR");
  if (addr.family() == AF_INET6) {
    // "::" without -6 takes IPv4 clients too (as ::ffff:a.b.c.d); -6 makes
    // the socket IPv6 only.
    int v6only = opt_.family == AF_INET6 ? 1 : 0;
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) == -1)
      return Error::last("unable to set IPV6_V6ONLY");
  }
  if (::bind(fd, reinterpret_cast<const struct sockaddr*>(&addr.ss), addr.len) == -1)
    return Error::last("unable to bind");
  if (::listen(fd, opt_.backlog) == -1) return Error::last("unable to listen");
  return {};
}

// setgroups, setgid, setuid: in that order, each checked (ucspi-tcp's
// prot_gid and prot_uid). 0 means "leave it".
Status Server::drop_privileges() const {
  if (opt_.gid != 0) {
    gid_t g = opt_.gid;
    if (::setgroups(1, &g) == -1) return Error::last("unable to set gid");
    if (::setgid(g) == -1) return Error::last("unable to set gid");
  }
  if (opt_.uid != 0 && ::setuid(opt_.uid) == -1) return Error::last("unable to set uid");
  return {};
}

void Server::reap() {
  for (;;) {
    int wstat = 0;
    pid_t pid = ::waitpid(-1, &wstat, WNOHANG);
    if (pid <= 0) break;
    // ucspi-tcp logs the raw wait status: exit 1 shows as "status 256".
    if (opt_.verbosity >= 2)
      say("end " + std::to_string(pid) + " status " + std::to_string(wstat));
    auto it = children_.find(pid);
    if (it == children_.end()) continue;
    auto ip = per_ip_.find(it->second);
    if (ip != per_ip_.end() && --ip->second == 0) per_ip_.erase(ip);
    children_.erase(it);
    if (count_ > 0) --count_;
    status();
  }
}

bool Server::handle_signals() {
  bool term = false;
  bool chld = false;
  for (;;) {
    struct signalfd_siginfo si;
    ssize_t n = ::read(signals_.get(), &si, sizeof si);
    if (n != static_cast<ssize_t>(sizeof si)) break;  // EAGAIN: drained
    if (si.ssi_signo == SIGTERM) term = true;
    if (si.ssi_signo == SIGCHLD) chld = true;
  }
  if (chld) reap();
  return !term;
}

void Server::start_child(Fd sock, SocketAddress remote) {
  unmap_v4(remote, opt_.family == AF_INET6);
  std::string ip = address_text(remote);
  if (opt_.per_ip > 0) {
    auto it = per_ip_.find(ip);
    if (it != per_ip_.end() && it->second >= opt_.per_ip) {
      if (!opt_.per_ip_text.empty())  // best effort: never block the listener
        (void)::send(sock.get(), opt_.per_ip_text.data(), opt_.per_ip_text.size(),
                     MSG_DONTWAIT | MSG_NOSIGNAL);
      if (opt_.verbosity >= 2)
        say("limit " + safe_log_text(ip, true) + ":" + std::to_string(address_port(remote)) +
            " per-ip " + std::to_string(opt_.per_ip));
      return;  // sock closes here
    }
  }
  ++count_;
  status();
  pid_t pid = ::fork();
  if (pid == -1) {
    say(std::string("warning: dropping connection, unable to fork: ") + std::strerror(errno));
    --count_;
    status();
    return;
  }
  if (pid == 0) {
    listener_.reset();
    signals_.reset();
    serve_connection(opt_, sock.release(), remote);
  }
  children_[pid] = ip;
  ++per_ip_[ip];
}

void Server::accept_some() {
  for (int n = 0; n < kAcceptBatch && count_ < opt_.limit; ++n) {
    SocketAddress remote;
    remote.len = sizeof remote.ss;
    int fd = ::accept4(listener_.get(), reinterpret_cast<struct sockaddr*>(&remote.ss),
                       &remote.len, SOCK_CLOEXEC);
    if (fd == -1) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK) return;
      if (e == EINTR || e == ECONNABORTED || e == EPROTO || e == EPERM) continue;
      if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) backoff_ = true;
      say(std::string("warning: unable to accept: ") + std::strerror(e));
      return;
    }
    start_child(Fd(fd), remote);
  }
}

int Server::run() {
  auto port = resolve_port(opt_.port);
  if (!port) return fatal(port.error().message());
  auto addr = resolve_listen_address(opt_.host, opt_.family, *port);
  if (!addr) return fatal(addr.error().message());

  // Signals arrive through signalfd; children get the old mask back.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) == -1)
    return fatal(std::string("unable to block signals: ") + std::strerror(errno));
  int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd == -1) return fatal(std::string("unable to create signalfd: ") + std::strerror(errno));
  signals_.reset(sfd);
  ::signal(SIGPIPE, SIG_IGN);

  if (auto st = listen_socket(*addr); !st) return fatal(st.error().message());
  SocketAddress local;
  local.len = sizeof local.ss;
  if (::getsockname(listener_.get(), reinterpret_cast<struct sockaddr*>(&local.ss),
                    &local.len) == -1)
    return fatal(std::string("unable to get local address: ") + std::strerror(errno));
  if (auto st = drop_privileges(); !st) return fatal(st.error().message());

  if (opt_.print_port)
    (void)write_all(1, std::to_string(address_port(local)) + "\n");
  // As ucspi-tcp closes 0 and 1: nothing more goes to stdout, and a pipe
  // reading it sees end of file. /dev/null keeps the numbers taken.
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null == -1) return fatal(std::string("unable to open /dev/null: ") + std::strerror(errno));
  if (::dup2(null, 0) == -1 || ::dup2(null, 1) == -1)
    return fatal(std::string("unable to set up descriptors: ") + std::strerror(errno));
  if (null > 1) ::close(null);
  status();

  for (;;) {
    struct pollfd fds[2] = {{signals_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
    bool want_clients = count_ < opt_.limit && !backoff_;
    int r = ::poll(fds, want_clients ? 2 : 1, backoff_ ? kBackoffMs : -1);
    if (r == -1) {
      if (errno == EINTR) continue;
      return fatal(std::string("unable to poll: ") + std::strerror(errno));
    }
    if (r == 0) backoff_ = false;
    if (fds[0].revents != 0 && !handle_signals()) return 0;
    if (want_clients && fds[1].revents != 0) accept_some();
  }
}

}  // namespace

int run_server(const ServerOptions& opt) { return Server(opt).run(); }

}  // namespace qng

// listener.cc: starting, stopping and watching one tcpserver per listener.
//
// start: the logger first (its stdin the read end of a pipe), then
// tcpserver with -1, its stdout a second pipe and its stderr the first.
// tcpserver prints the port once it has bound and listens, so a line on
// that pipe means the socket is ours; end of file without one means it
// failed (the reason is in its log). Then one connection to the address
// proves that it accepts. Both waits are bounded.
#include "listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "atomic.h"
#include "compile.h"
#include "control.h"
#include "failure.h"
#include "fd.h"
#include "proc.h"
#include "say.h"
#include "system.h"

namespace qng::ctl {

namespace {

constexpr int kStartWaitMs = 10000;   // bind, listen, print the port, accept
constexpr int kLoggerWaitMs = 2000;   // a failed tcpserver's last words
constexpr int kStopWaitMs = 10000;    // tcpserver exits at once on TERM
constexpr int kPollMs = 20;
constexpr size_t kLogTail = 4096;

std::string at(const std::string& dir, const char* rel) { return dir + "/" + rel; }

// The last non-empty line of the log file, without its TAI64N stamp.
std::string last_log_line(const std::string& current) {
  auto fd = open_read(current);
  if (!fd) return "";
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return "";
  off_t size = st.st_size;
  off_t from = size > static_cast<off_t>(kLogTail) ? size - static_cast<off_t>(kLogTail) : 0;
  std::string buf(kLogTail, '\0');
  ssize_t n = ::pread(fd->get(), buf.data(), buf.size(), from);
  if (n <= 0) return "";
  buf.resize(static_cast<size_t>(n));
  while (!buf.empty() && buf.back() == '\n') buf.pop_back();
  size_t nl = buf.rfind('\n');
  std::string line = nl == std::string::npos ? buf : buf.substr(nl + 1);
  if (line.size() > 26 && line[0] == '@' && line[25] == ' ') line.erase(0, 26);
  for (char& c : line)
    if (static_cast<unsigned char>(c) < 32 || c == 127) c = '?';
  return line;
}

// Waits for pid, a child of ours, until the deadline; its wait status.
std::optional<int> wait_until(pid_t pid, long long deadline) {
  for (;;) {
    int status = 0;
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) return status;
    if (w < 0 && errno != EINTR) return std::nullopt;
    if (now_ms() >= deadline) return std::nullopt;
    sleep_ms(kPollMs);
  }
}

// Reads tcpserver's "PORT\n" from fd until the deadline. True once the
// line is there; false at end of file, on error or at the deadline.
bool read_port_line(int fd, long long deadline) {
  std::string got;
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0) return false;
    struct pollfd p = {fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0 && errno != EINTR) return false;
    if (r <= 0) continue;
    char buf[64];
    auto n = read_some(fd, buf, sizeof buf);
    if (!n || *n == 0) return false;
    got.append(buf, *n);
    if (got.find('\n') != std::string::npos) return true;
    if (got.size() > 32) return false;
  }
}

// One TCP connection to host:port within the deadline.
Status probe(const std::string& host, unsigned port, long long deadline) {
  struct addrinfo hints {};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  struct addrinfo* res = nullptr;
  std::string h = probe_host(host);
  int gai = ::getaddrinfo(h.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (gai != 0) return Error::temp("unable to look up " + h + ": " + ::gai_strerror(gai));
  int last = ECONNREFUSED;
  for (;;) {
    for (struct addrinfo* a = res; a; a = a->ai_next) {
      Fd s(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
      if (!s) {
        last = errno;
        continue;
      }
      int r = ::connect(s.get(), a->ai_addr, a->ai_addrlen);
      if (r != 0 && errno == EINPROGRESS) {
        long long left = std::max<long long>(deadline - now_ms(), 1);
        struct pollfd p = {s.get(), POLLOUT, 0};
        r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
        if (r <= 0) {
          last = r == 0 ? ETIMEDOUT : errno;
          continue;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        r = err == 0 ? 0 : -1;
        errno = err;
      }
      if (r == 0) {
        ::freeaddrinfo(res);
        return {};
      }
      last = errno;
    }
    if (now_ms() >= deadline) break;
    sleep_ms(kPollMs);
  }
  ::freeaddrinfo(res);
  return Error::sys(last, "unable to connect to " + h + ":" + std::to_string(port));
}

// DIR/log/SERVICE, owned by qmaill in the system instance.
Status make_log_dir(const std::string& dir, const Service& s, const ListenerSettings& st) {
  std::string path = at(dir, s.log_dir);
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    return Error::last("unable to mkdir " + path);
  if (st.logger && ::lchown(path.c_str(), st.logger->uid, st.logger->gid) != 0)
    return Error::last("unable to chown " + path);
  return {};
}

unsigned long clamp(uint64_t v, unsigned long lo) {
  if (v < lo) return lo;
  if (v > kMaxConcurrency) return kMaxConcurrency;
  return static_cast<unsigned long>(v);
}

}  // namespace

std::string probe_host(const std::string& host) {
  if (host.empty() || host == "0" || host == "0.0.0.0") return "127.0.0.1";
  if (host == "::" || host == "::0") return "::1";
  return host;
}

Result<std::vector<ListenerPlan>> configured_listeners(const std::string& dir) {
  std::vector<ListenerPlan> out;
  Control control(dir + "/control");
  for (const Service& s : kServices) {
    std::string name = std::string(s.listen).substr(8);  // after "control/"
    auto text = control.contents(name, 4096);
    if (!text) return Error::sys(text.error().code(), "unable to read " + at(dir, s.listen));
    if (!*text) continue;
    std::string line = strip_trailing_space(**text);
    auto hp = parse_host_port(line);
    if (!hp)
      return Error::perm(at(dir, s.listen) + ": " + hp.error().context() +
                         " (want one line HOST:PORT)");
    out.push_back({&s, *hp});
  }
  return out;
}

Result<ListenerSettings> listener_settings(const std::string& dir) {
  ListenerSettings st;
  Control control(dir + "/control");
  auto me = control.line_or("me", false, "localhost");
  if (!me) return me.error();
  st.me = me->empty() ? "localhost" : *me;
  auto limit = control.number("concurrencyincoming", kDefaultConcurrencyIncoming);
  if (!limit) return limit.error();
  st.limit = clamp(*limit, 1);
  auto per_ip = control.number("concurrencyperip", kDefaultConcurrencyPerIp);
  if (!per_ip) return per_ip.error();
  st.per_ip = clamp(*per_ip, 0);
  if (system_instance(dir)) {
    auto qmaild = lookup_uid("qmaild");
    if (!qmaild) return qmaild.error();
    auto qmaill = lookup_uid("qmaill");
    if (!qmaill) return qmaill.error();
    auto nofiles = lookup_gid("nofiles");
    if (!nofiles) return nofiles.error();
    st.daemon = Creds{*qmaild, *nofiles};
    st.logger = Creds{*qmaill, *nofiles};
  }
  return st;
}

std::vector<std::string> service_program(const std::string& dir, const Service& s,
                                         const std::string& me) {
  std::string bin = dir + "/bin/";
  if (std::string(s.name) == "pop3")
    return {bin + "qmail-popup", me, bin + "qmail-checkpassword", bin + "qmail-pop3d", "Maildir"};
  return {bin + s.exe};
}

std::vector<std::string> tcpserver_argv(const std::string& dir, const Service& s,
                                        const HostPort& addr, const ListenerSettings& st) {
  std::vector<std::string> v = {dir + "/bin/tcpserver", "-1", "-v",
                                "-c", std::to_string(st.limit),
                                "-C", std::to_string(st.per_ip)};
  if (*s.too_many && st.per_ip != 0) {
    v.push_back("-M");
    v.push_back(s.too_many);
  }
  v.insert(v.end(), {"-l", st.me, "-x", dir + "/" + s.rules + ".cdb"});
  if (st.daemon && !s.as_root) {
    v.insert(v.end(), {"-u", std::to_string(st.daemon->uid), "-g",
                       std::to_string(st.daemon->gid)});
  }
  v.insert(v.end(), {"--", addr.host, std::to_string(addr.port)});
  for (auto& a : service_program(dir, s, st.me)) v.push_back(std::move(a));
  return v;
}

Status ensure_rules(const std::string& dir, const Service& s) {
  std::string cdb = dir + "/" + s.rules + ".cdb";
  struct stat st;
  if (::stat(cdb.c_str(), &st) == 0) return {};
  if (errno != ENOENT) return Error::last("unable to stat " + cdb);
  if (auto c = compile_tcp_rules(dir, s.name); !c) return c;
  if (::stat(cdb.c_str(), &st) == 0) return {};
  return Error::perm("no " + at(dir, s.rules) + " for " + at(dir, s.listen) +
                     ": write its rules (e.g. :allow) and run qmailctl cdb");
}

Status check_programs(const std::string& dir, const Service& s) {
  std::vector<std::string> need = {dir + "/bin/tcpserver", dir + "/bin/qmail-logger"};
  for (const auto& a : service_program(dir, s, ""))
    if (a.rfind(dir + "/bin/", 0) == 0) need.push_back(a);
  for (const auto& p : need)
    if (::access(p.c_str(), X_OK) != 0)
      return Error::perm("no " + p + " for " + at(dir, s.listen) +
                         ": copy it from a build that has it");
  return {};
}

std::optional<pid_t> listener_running(const std::string& dir, const Service& s) {
  auto pid = read_pid_file(at(dir, s.pid_file));
  if (!pid || !*pid || !process_alive(**pid)) return std::nullopt;
  auto name = process_name(**pid);
  if (name && *name != "tcpserver") return std::nullopt;
  return **pid;
}

int start_listener(const std::string& dir, const ListenerPlan& plan,
                   const ListenerSettings& st, bool* started) {
  const Service& s = *plan.service;
  *started = false;
  std::string what = std::string(s.program) + " (" + s.name + " on " + plan.addr.text() + ")";
  if (auto pid = listener_running(dir, s)) {
    say(std::string(s.program) + ": already running (pid " + std::to_string(*pid) + ")");
    return kExitOk;
  }
  std::string pid_path = at(dir, s.pid_file);
  std::string log = at(dir, s.log_dir) + "/current";
  if (auto m = make_log_dir(dir, s, st); !m) return fatal(m.error());
  std::string ctl_log = at(dir, kCtlLog);
  auto ctl_fd = open_append(ctl_log, 0644);
  if (!ctl_fd) return fatal(Error::sys(ctl_fd.error().code(), "unable to open " + ctl_log));
  auto null = open_read("/dev/null");
  if (!null) return fatal(Error::sys(null.error().code(), "unable to open /dev/null"));
  if (::unlink(pid_path.c_str()) != 0 && errno != ENOENT)
    return fatal(Error::last("unable to remove " + pid_path));

  Fd err_r, err_w, port_r, port_w;
  if (auto p = make_pipe(err_r, err_w); !p) return fatal(p.error());
  if (auto p = make_pipe(port_r, port_w); !p) return fatal(p.error());
  std::vector<std::string> env = daemon_env(dir);
  auto logger = spawn_detached(dir, err_r.get(), ctl_fd->get(), ctl_fd->get(),
                               {dir + "/bin/qmail-logger", at(dir, s.log_dir)}, env, st.logger);
  if (!logger) return fatal(logger.error());
  err_r.reset();
  auto server = spawn_detached(dir, null->get(), port_w.get(), err_w.get(),
                               tcpserver_argv(dir, s, plan.addr, st), env);
  err_w.reset();
  port_w.reset();
  if (!server) return fatal(server.error());
  pid_t pid = *server;

  // From here on a failure stops tcpserver and says why: `why`, or how it
  // ended when it ended by itself, then its last log line.
  std::optional<int> ended;
  auto fail = [&](const std::string& why) {
    if (!ended) ended = wait_until(pid, 0);
    bool by_itself = ended.has_value();
    if (!ended) {
      ::kill(pid, SIGTERM);
      ended = wait_until(pid, now_ms() + kStopWaitMs);
    }
    ::unlink(pid_path.c_str());
    // With tcpserver gone the logger sees end of input and exits.
    (void)wait_until(*logger, now_ms() + kLoggerWaitMs);
    std::string msg = what + ": ";
    if (by_itself && why.empty())
      msg += "tcpserver " + wait_status_text(*ended) + " while starting";
    else
      msg += why;
    std::string last = last_log_line(log);
    if (!last.empty()) msg += ": " + last;
    return fatal(kExitTemp, msg + "; see " + log);
  };

  if (auto w = write_file_atomic(pid_path, std::to_string(pid) + "\n", 0644); !w)
    return fail("not started: " + w.error().message());
  long long deadline = now_ms() + kStartWaitMs;
  if (!read_port_line(port_r.get(), deadline)) {
    ended = wait_until(pid, now_ms() + kLoggerWaitMs);
    if (ended) return fail("");
    return fail("did not listen within " + std::to_string(kStartWaitMs / 1000) + " seconds");
  }
  if (auto p = probe(plan.addr.host, plan.addr.port, deadline); !p)
    return fail("does not accept connections: " + p.error().message());
  if ((ended = wait_until(pid, 0))) return fail("");
  if (auto l = wait_until(*logger, 0))
    return fail("has no logger: qmail-logger " + wait_status_text(*l) + "; see " + ctl_log);
  *started = true;
  say(std::string(s.program) + ": started (pid " + std::to_string(pid) + ") on " +
      plan.addr.text());
  return kExitOk;
}

int stop_listener(const std::string& dir, const Service& s, bool quiet) {
  std::string pid_path = at(dir, s.pid_file);
  auto pid = listener_running(dir, s);
  if (!pid) {
    if (::unlink(pid_path.c_str()) != 0 && errno != ENOENT)
      return fatal(Error::last("unable to remove " + pid_path));
    if (!quiet) say(std::string(s.program) + ": not running");
    return kExitOk;
  }
  if (::kill(*pid, SIGTERM) != 0 && errno != ESRCH)
    return fatal(Error::last("unable to signal " + std::string(s.program) + "'s tcpserver (pid " +
                             std::to_string(*pid) + ")"));
  long long deadline = now_ms() + kStopWaitMs;
  while (process_alive(*pid)) {
    // Started by this very qmailctl (a failed start): reap it.
    int status;
    (void)::waitpid(*pid, &status, WNOHANG);
    if (now_ms() >= deadline)
      return fatal(kExitTemp, std::string(s.program) + "'s tcpserver (pid " + std::to_string(*pid) +
                                  ") still running after " + std::to_string(kStopWaitMs / 1000) +
                                  " seconds");
    sleep_ms(kPollMs);
  }
  if (::unlink(pid_path.c_str()) != 0 && errno != ENOENT)
    return fatal(Error::last("unable to remove " + pid_path));
  if (!quiet) say(std::string(s.program) + ": stopped");
  return kExitOk;
}

std::string listener_status(const std::string& dir, const Service& s) {
  auto pid = listener_running(dir, s);
  if (!pid) return std::string(s.program) + ": down";
  return std::string(s.program) + ": up (pid " + std::to_string(*pid) + ") " +
         std::to_string(seconds_since(at(dir, s.pid_file))) + " seconds";
}

}  // namespace qng::ctl

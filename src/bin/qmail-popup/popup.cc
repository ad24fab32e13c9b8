// popup.cc: qmail-popup's authorization state and the hand-off to the
// checkpassword program.
//
// Without TLS the child gets the network itself on fd 0/1, as in qmail.
// With TLS it cannot (it would speak plaintext), so it gets one end of a
// socketpair on fd 0/1 and we relay between that and the TLS connection
// until it is done (relay.h).
#include "popup.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>
#include <string_view>

#include "address.h"
#include "child.h"
#include "client.h"
#include "fd.h"
#include "relay.h"
#include "tls.h"

namespace qng::pop3 {
namespace {

constexpr std::string_view kOk = "+OK \r\n";

void say(const std::string& what) { (void)write_all(2, "qmail-popup: " + what + "\n"); }

void wipe(std::string& s) { ::explicit_bzero(s.data(), s.size()); }

// The child's fd `to` becomes `from` (with close-on-exec cleared).
bool move_fd(int from, int to) {
  if (from == to) {
    int flags = ::fcntl(to, F_GETFD);
    return flags != -1 && ::fcntl(to, F_SETFD, flags & ~FD_CLOEXEC) != -1;
  }
  return ::dup2(from, to) != -1;
}

// Run as root (the system instance): becomes qmaild/nofiles, qmail-smtpd's
// unprivileged identity. Not root: nothing to do.
Status drop_root() {
  if (::geteuid() != 0) return {};
  struct passwd* pw = ::getpwnam("qmaild");
  struct group* gr = ::getgrnam("nofiles");
  if (!pw || !gr) return Error::perm("no user qmaild or group nofiles: relaying as root");
  gid_t gid = gr->gr_gid;
  if (::setgroups(1, &gid) == -1 || ::setgid(gid) == -1 || ::setuid(pw->pw_uid) == -1)
    return Error::last("unable to drop root for the TLS relay");
  return {};
}

// Runs the child with the credentials on fd 3 and reports how it ended, as
// qmail's doanddie: the exit code of qmail-popup.
int authenticate(const PopupConfig& config, Client& client, const std::string& user,
                 std::string& pass, const std::string& stamp) {
  Fd cred_r, cred_w;
  if (!make_pipe(cred_r, cred_w)) {
    (void)client.send("-ERR unable to open pipe\r\n");
    return 1;
  }
  Fd mine, theirs;  // the socketpair of a TLS session
  if (client.tls_active()) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
      (void)client.send("-ERR unable to open pipe\r\n");
      return 1;
    }
    mine.reset(sv[0]);
    theirs.reset(sv[1]);
  }
  std::vector<char*> argv;
  for (const auto& a : config.child) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid == -1) {
    (void)client.send("-ERR unable to fork\r\n");
    return 1;
  }
  if (pid == 0) {
    std::signal(SIGPIPE, SIG_DFL);
    // fd 0/1: the client, or our end of the relay. They go first: theirs
    // may sit at 3, which cred_r is about to take.
    int child_in = theirs ? theirs.get() : config.in_fd;
    int child_out = theirs ? theirs.get() : config.out_fd;
    if (!move_fd(child_in, 0) || !move_fd(child_out, 1)) ::_exit(111);
    if (!move_fd(cred_r.get(), 3)) ::_exit(111);
    ::execvp(argv[0], argv.data());
    say("unable to run " + config.child[0] + ": " + std::strerror(errno));
    ::_exit(1);
  }

  cred_r.reset();
  theirs.reset();
  std::string record = user;
  record += '\0';
  record += pass;
  record += '\0';
  record += stamp;
  record += '\0';
  wipe(pass);
  // A child that dies before reading says why through its exit code.
  (void)write_all(cred_w.get(), record);
  wipe(record);
  cred_w.reset();

  if (client.tls_active()) {
    // The child has what needed root; the relay parses the client's TLS
    // for the rest of the session, so not as root.
    if (auto d = drop_root(); !d) say(d.error().message());
    relay(*client.tls(), mine.get(), client.take_pending(), config.timeout_ms);
    mine.reset();  // the child sees the end of its input
  }
  auto how = wait_child(pid);
  if (!how) {
    say(how.error().message());
    return 1;
  }
  int code = 0;
  if (how->crashed) {
    (void)client.send("-ERR aack, child crashed\r\n");
    code = 1;
  } else if (how->code != 0) {
    (void)client.send("-ERR authorization failed\r\n");
    code = 1;
  }
  if (client.tls_active()) client.tls()->close_notify(config.timeout_ms);
  return code;
}

}  // namespace

std::string greeting(const std::string& hostname) { return "+OK " + hostname + " ready\r\n"; }

std::string timestamp(pid_t pid, time_t now, const std::string& hostname) {
  return "<" + std::to_string(pid) + "." + std::to_string(static_cast<long long>(now)) + "@" +
         hostname + ">";
}

std::string capabilities(bool user, bool stls) {
  std::string s = "+OK capability list follows\r\n";
  if (user) s += "USER\r\n";
  s += "TOP\r\nUIDL\r\nPIPELINING\r\nRESP-CODES\r\n";
  if (stls) s += "STLS\r\n";
  s += kImplementation;
  s += "\r\n.\r\n";
  return s;
}

int run_popup(const PopupConfig& config) {
  // A checkpassword program may exit without reading fd 3 or a client may
  // vanish: both must be write errors here, never a fatal SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  Client client(config.in_fd, config.out_fd, config.timeout_ms);
  const std::string stamp = timestamp(::getpid(), std::time(nullptr), config.hostname);
  if (!client.send(greeting(config.hostname))) return 1;

  std::string user;
  bool seenuser = false;
  std::string line;
  for (size_t count = 0;; ++count) {
    if (count == kMaxAuthCommands) {
      (void)client.send("-ERR too many commands\r\n");
      return 1;
    }
    auto got = client.read_line(line, kMaxCommandLine);
    if (!got) {
      if (got.error().code() == E2BIG) (void)client.send("-ERR command too long\r\n");
      return 1;
    }
    if (!*got) return 1;
    Command cmd = split_command(line);
    wipe(line);
    const std::string& verb = cmd.verb;
    const bool may_login = client.tls_active() || config.plaintext_ok;
    Status sent;

    if (iequals(verb, "user")) {
      if (!may_login) {
        sent = client.send("-ERR [AUTH] TLS required\r\n");
      } else if (cmd.arg.empty()) {
        sent = client.send("-ERR syntax error\r\n");
      } else {
        user = cmd.arg;
        seenuser = true;
        sent = client.send(kOk);
      }
    } else if (iequals(verb, "pass")) {
      if (!may_login) {
        sent = client.send("-ERR [AUTH] TLS required\r\n");
      } else if (!seenuser) {
        sent = client.send("-ERR USER first\r\n");
      } else if (cmd.arg.empty()) {
        sent = client.send("-ERR syntax error\r\n");
      } else {
        int code = authenticate(config, client, user, cmd.arg, stamp);
        wipe(cmd.arg);
        return code;
      }
    } else if (iequals(verb, "quit")) {
      (void)client.send(kOk);
      if (client.tls_active()) client.tls()->close_notify(config.timeout_ms);
      return 0;
    } else if (iequals(verb, "noop")) {
      sent = client.send(kOk);
    } else if (iequals(verb, "capa")) {
      sent = client.send(
          capabilities(may_login, !config.certfile.empty() && !client.tls_active()));
    } else if (iequals(verb, "stls") && client.tls_active()) {
      sent = client.send("-ERR Command not permitted when TLS active\r\n");
    } else if (iequals(verb, "stls") && !config.certfile.empty()) {
      auto tls = TlsServer::load(config.certfile);
      if (!tls) {
        say(tls.error().message());
        sent = client.send("-ERR TLS not available\r\n");
      } else {
        if (!client.send("+OK Begin TLS negotiation\r\n")) return 1;
        if (auto s = client.start_tls(std::move(*tls)); !s) {
          say(s.error().message());
          return 1;
        }
        // RFC 2595: nothing learned before TLS counts after it.
        wipe(user);
        user.clear();
        seenuser = false;
      }
    } else if (iequals(verb, "apop")) {
      sent = client.send("-ERR unimplemented\r\n");
    } else {
      sent = client.send("-ERR authorization first\r\n");
    }
    wipe(cmd.arg);
    if (!sent) return 1;
  }
}

}  // namespace qng::pop3

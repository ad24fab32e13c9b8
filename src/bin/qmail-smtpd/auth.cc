// auth.cc: AUTH PLAIN and LOGIN, and the checkpassword child.
#include "auth.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>

#include "address.h"
#include "fd.h"
#include "replies.h"
#include "session.h"

namespace qng::smtpd {

namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

constexpr std::string_view kUsernamePrompt = "334 VXNlcm5hbWU6";  // "Username:"
constexpr std::string_view kPasswordPrompt = "334 UGFzc3dvcmQ6";  // "Password:"

// One client response of the exchange; nullopt after the reply that ends
// the exchange (too long, cancelled, undecodable).
std::optional<std::string> read_response(Session& s, std::string_view prompt) {
  s.conn.reply(prompt);
  std::string line;
  if (!s.conn.read_line(line, kMaxAuthLine)) {
    s.reply(reply::kAuthLineTooLong);
    return std::nullopt;
  }
  if (line == "*") {
    s.reply(reply::kAuthCancelled);
    return std::nullopt;
  }
  auto decoded = base64_decode(line);
  if (!decoded) s.reply(reply::kAuthDecode);
  return decoded;
}

// An initial response (RFC 4954: "=" is the empty one).
std::optional<std::string> decode_initial(Session& s, std::string_view initial) {
  auto decoded = initial == "=" ? std::optional<std::string>("") : base64_decode(initial);
  if (!decoded) s.reply(reply::kAuthDecode);
  return decoded;
}

void auth_failed(Session& s) {
  s.reply(reply::kAuthFailed);
  if (++s.auth_failures >= kMaxAuthFailures) s.conn.die(reply::kAuthTooMany);
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    bool last = i + 4 == in.size();
    int v[4];
    size_t pad = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = in[i + j];
      if (c == '=' && last && j >= 2) {
        ++pad;
        v[j] = 0;
        continue;
      }
      if (pad > 0) return std::nullopt;  // data after padding
      v[j] = base64_value(c);
      if (v[j] < 0) return std::nullopt;
    }
    unsigned n = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                 (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
  }
  return out;
}

std::optional<Credentials> parse_plain(std::string_view decoded) {
  size_t a = decoded.find('\0');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = decoded.find('\0', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  std::string_view authzid = decoded.substr(0, a);
  Credentials c{std::string(decoded.substr(a + 1, b - a - 1)), std::string(decoded.substr(b + 1))};
  if (c.password.find('\0') != std::string::npos) return std::nullopt;
  if (!authzid.empty() && authzid != c.user) return std::nullopt;
  return c;
}

CheckResult run_checkpassword(const std::vector<std::string>& program, const Credentials& c,
                              int timeout_s) {
  if (program.empty()) return CheckResult::kTemp;
  std::string data = c.user + '\0' + c.password + '\0' + '\0';
  Fd r, w;
  if (!make_pipe(r, w)) return CheckResult::kTemp;
  // The credentials fit the pipe's buffer: write them before the fork.
  if (!write_all(w.get(), data)) return CheckResult::kTemp;
  w.reset();

  std::vector<std::string> args = program;
  args.emplace_back("/bin/true");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null == -1) return CheckResult::kTemp;
  Fd null_fd(null);

  pid_t pid = ::fork();
  if (pid == -1) return CheckResult::kTemp;
  if (pid == 0) {
    // The child: never the client's socket on 0 or 1; fd 3 the pipe.
    int high = ::fcntl(r.get(), F_DUPFD_CLOEXEC, 10);
    if (high == -1 || ::dup2(high, 3) == -1) ::_exit(111);
    if (::dup2(null, 0) == -1 || ::dup2(null, 1) == -1) ::_exit(111);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(111);
  }
  r.reset();

  // Bounded wait: a hung checkpassword must not hold the session.
  for (int waited_ms = 0;; waited_ms += 10) {
    int st = 0;
    pid_t got = ::waitpid(pid, &st, WNOHANG);
    if (got == pid) {
      if (!WIFEXITED(st)) return CheckResult::kTemp;
      if (WEXITSTATUS(st) == 0) return CheckResult::kOk;
      if (WEXITSTATUS(st) == 1) return CheckResult::kBad;
      return CheckResult::kTemp;
    }
    if (got == -1 && errno != EINTR) return CheckResult::kTemp;
    if (waited_ms >= timeout_s * 1000) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &st, 0) == -1 && errno == EINTR) {
      }
      return CheckResult::kTemp;
    }
    timespec t{0, 10 * 1000 * 1000};
    ::nanosleep(&t, nullptr);
  }
}

void smtp_auth(Session& s, std::string_view arg) {
  if (s.cfg.checkpassword.empty()) return s.reply(reply::kUnimplemented);
  if (s.authenticated) return s.reply(reply::kAuthAlready);
  if (!s.tls && !s.cfg.authplaintext) return s.reply(reply::kAuthNeedTls);
  size_t sp = arg.find(' ');
  std::string_view mechanism = arg.substr(0, sp);
  std::optional<std::string_view> initial;
  if (sp != std::string_view::npos) initial = arg.substr(sp + 1);
  if (mechanism.empty() || (initial && initial->empty())) return s.reply(reply::kAuthSyntax);

  Credentials c;
  if (iequals(mechanism, "PLAIN")) {
    auto decoded = initial ? decode_initial(s, *initial) : read_response(s, "334 ");
    if (!decoded) return;
    auto plain = parse_plain(*decoded);
    if (!plain) return auth_failed(s);
    c = std::move(*plain);
  } else if (iequals(mechanism, "LOGIN")) {
    auto user = initial ? decode_initial(s, *initial) : read_response(s, kUsernamePrompt);
    if (!user) return;
    auto password = read_response(s, kPasswordPrompt);
    if (!password) return;
    c = Credentials{std::move(*user), std::move(*password)};
  } else {
    return s.reply(reply::kAuthMechanism);
  }

  if (c.user.empty() || c.user.find('\0') != std::string::npos ||
      c.password.find('\0') != std::string::npos ||
      c.user.size() + c.password.size() > kMaxCredentials)
    return auth_failed(s);
  switch (run_checkpassword(s.cfg.checkpassword, c, kCheckpasswordSeconds)) {
    case CheckResult::kOk:
      s.authenticated = true;
      return s.reply(reply::kAuthOk);
    case CheckResult::kBad:
      return auth_failed(s);
    case CheckResult::kTemp:
      return s.reply(reply::kAuthTemp);
  }
}

}  // namespace qng::smtpd

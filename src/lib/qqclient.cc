// qqclient.cc: running qmail-queue and reading its verdict (qmail's qmail.c,
// with notqmail 1.09's exit-82 text on fd 6).
//
// SIGPIPE: qmail-queue (or a $QMAILQUEUE filter) may exit before it has read
// all we write, e.g. exit 11 on an over-long address. A write to its pipe
// would then raise SIGPIPE and kill the caller. MSG_NOSIGNAL exists only for
// sockets, and ignoring SIGPIPE process-wide would change the caller's
// behaviour elsewhere; so every write to a qmail-queue pipe runs with SIGPIPE
// blocked, and a SIGPIPE that the write raised is consumed (sigtimedwait)
// before the old mask is restored. The write itself fails with EPIPE, which
// makes the client's error sticky; finish() then reports the child's exit
// code, as qmail_close does.
#include "qqclient.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

namespace qng {

namespace {

constexpr size_t kPipeBuffer = 8192;
constexpr size_t kCustomTextMax = 255;   // notqmail: at most 255 bytes of fd 6
constexpr int kAbandonWaitMs = 5000;     // an abandoned child's time to clean up

// Holds SIGPIPE blocked for its lifetime; swallows a SIGPIPE raised meanwhile
// unless one was already pending before (that one belongs to the caller).
class SigpipeHold {
 public:
  SigpipeHold() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, &old_);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeHold() {
    if (!was_pending_) {
      sigset_t s;
      sigemptyset(&s);
      sigaddset(&s, SIGPIPE);
      timespec zero{0, 0};
      while (sigtimedwait(&s, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeHold(const SigpipeHold&) = delete;
  SigpipeHold& operator=(const SigpipeHold&) = delete;

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

// Moves `from` onto descriptor `to` in a forked child, clearing close-on-exec.
// `from` has already been duplicated above every target, so no move can
// clobber a descriptor that a later move still needs.
bool move_fd(int from, int to) {
  if (::dup2(from, to) == -1) return false;
  ::close(from);
  return true;
}

}  // namespace

std::string queue_exit_text(int code) {
  switch (code) {
    case 0: return "";
    case 115:  // compatibility
    case 11: return "Denvelope address too long for qq (#5.1.3)";
    case 31: return "Dmail server permanently rejected message (#5.3.0)";
    case 51: return "Zqq out of memory (#4.3.0)";
    case 52: return "Zqq timeout (#4.3.0)";
    case 53: return "Zqq write error or disk full (#4.3.0)";
    case 54: return "Zqq read error (#4.3.0)";
    case 55: return "Zqq unable to read configuration (#4.3.0)";
    case 56: return "Zqq trouble making network connection (#4.3.0)";
    case 61: return "Zqq trouble in home directory (#4.3.0)";
    case 62:
    case 63:
    case 64:
    case 65:
    case 66: return "Zqq trouble creating files in queue (#4.3.0)";
    case 71: return "Zmail server temporarily rejected message (#4.3.0)";
    case 72: return "Zconnection to mail server timed out (#4.4.1)";
    case 73: return "Zconnection to mail server rejected (#4.4.1)";
    case 74: return "Zcommunication with mail server failed (#4.4.2)";
    case 91:  // qmail_close: envelope format error falls through to 81
    case 81: return "Zqq internal bug (#4.3.0)";
    case 120: return "Zunable to exec qq (#4.3.0)";
    default:
      if (code >= 11 && code <= 40) return "Dqq permanent problem (#5.3.0)";
      return "Zqq temporary problem (#4.3.0)";
  }
}

Result<QueueClient> QueueClient::start(const std::string& home, bool trust_env) {
  std::string prog;
  if (trust_env) {
    if (const char* q = std::getenv("QMAILQUEUE"); q && *q) prog = q;
  }
  if (prog.empty()) prog = home + "/bin/qmail-queue";

  Fd msg_r, msg_w, env_r, env_w, err_r, err_w;
  if (auto s = make_pipe(msg_r, msg_w); !s) return s.error();
  if (auto s = make_pipe(env_r, env_w); !s) return s.error();
  if (auto s = make_pipe(err_r, err_w); !s) return s.error();

  char* argv[] = {prog.data(), nullptr};
  const char* dir = home.c_str();
  pid_t pid = ::fork();
  if (pid == -1) return Error::last("unable to fork qmail-queue");
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec; _exit, no cleanup.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int m = ::fcntl(msg_r.get(), F_DUPFD_CLOEXEC, 10);
    int e = ::fcntl(env_r.get(), F_DUPFD_CLOEXEC, 10);
    int c = ::fcntl(err_w.get(), F_DUPFD_CLOEXEC, 10);
    if (m == -1 || e == -1 || c == -1) ::_exit(120);
    if (!move_fd(m, 0) || !move_fd(e, 1) || !move_fd(c, 6)) ::_exit(120);
    if (::chdir(dir) == -1) ::_exit(61);
    ::execv(argv[0], argv);
    ::_exit(120);
  }

  QueueClient q;
  q.pid_ = pid;
  q.msg_fd_ = std::move(msg_w);
  q.env_fd_ = std::move(env_w);
  q.custom_fd_ = std::move(err_r);
  q.buf_.reserve(kPipeBuffer);
  return q;  // the child's ends close here
}

QueueClient::QueueClient(QueueClient&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      msg_fd_(std::move(o.msg_fd_)),
      env_fd_(std::move(o.env_fd_)),
      custom_fd_(std::move(o.custom_fd_)),
      buf_(std::move(o.buf_)),
      in_envelope_(o.in_envelope_),
      failed_(o.failed_) {}

QueueClient& QueueClient::operator=(QueueClient&& o) noexcept {
  if (this != &o) {
    abandon();
    pid_ = std::exchange(o.pid_, -1);
    msg_fd_ = std::move(o.msg_fd_);
    env_fd_ = std::move(o.env_fd_);
    custom_fd_ = std::move(o.custom_fd_);
    buf_ = std::move(o.buf_);
    in_envelope_ = o.in_envelope_;
    failed_ = o.failed_;
  }
  return *this;
}

QueueClient::~QueueClient() { abandon(); }

void QueueClient::abandon() {
  msg_fd_.reset();
  env_fd_.reset();
  custom_fd_.reset();
  buf_.clear();
  if (pid_ <= 0) return;
  // Without the final NUL qmail-queue sees a truncated envelope, removes
  // what it made and exits 54. Give it a moment; a stuck filter is killed.
  for (int waited = 0; waited < kAbandonWaitMs; waited += 10) {
    int st;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_ || (r == -1 && errno != EINTR)) {
      pid_ = -1;
      return;
    }
    timespec t{0, 10 * 1000 * 1000};
    ::nanosleep(&t, nullptr);
  }
  ::kill(pid_, SIGKILL);
  int st;
  while (::waitpid(pid_, &st, 0) == -1 && errno == EINTR) {
  }
  pid_ = -1;
}

void QueueClient::flush_buffer() {
  if (buf_.empty()) return;
  const Fd& fd = in_envelope_ ? env_fd_ : msg_fd_;
  if (!failed_) {
    SigpipeHold hold;
    if (!fd.valid() || !write_all(fd.get(), buf_)) failed_ = true;
  }
  buf_.clear();
}

void QueueClient::put_bytes(std::string_view bytes) {
  if (failed_) return;
  if (bytes.size() > kPipeBuffer - buf_.size()) {
    flush_buffer();
    if (bytes.size() >= kPipeBuffer) {
      if (failed_) return;
      const Fd& fd = in_envelope_ ? env_fd_ : msg_fd_;
      SigpipeHold hold;
      if (!fd.valid() || !write_all(fd.get(), bytes)) failed_ = true;
      return;
    }
  }
  buf_.append(bytes);
}

void QueueClient::put(std::string_view bytes) {
  if (in_envelope_) {  // message bytes after the envelope began: a caller bug
    failed_ = true;
    return;
  }
  put_bytes(bytes);
}

void QueueClient::put_fd(int fd) {
  std::string chunk(65536, '\0');
  while (!failed_) {
    auto r = read_some(fd, chunk.data(), chunk.size());
    if (!r) {
      failed_ = true;
      return;
    }
    if (*r == 0) return;
    put(std::string_view(chunk.data(), *r));
  }
}

void QueueClient::end_message() {
  if (in_envelope_) return;
  flush_buffer();
  if (!msg_fd_.close()) failed_ = true;
  in_envelope_ = true;
}

void QueueClient::from(std::string_view sender) {
  end_message();
  // A NUL inside an address would forge envelope records: refuse to send it.
  if (sender.find('\0') != std::string_view::npos) failed_ = true;
  put_bytes("F");
  put_bytes(sender);
  put_bytes(std::string_view("", 1));
}

void QueueClient::to(std::string_view recipient) {
  if (!in_envelope_) failed_ = true;  // no from(): a caller bug
  if (recipient.find('\0') != std::string_view::npos) failed_ = true;
  put_bytes("T");
  put_bytes(recipient);
  put_bytes(std::string_view("", 1));
}

std::string QueueClient::finish() {
  if (pid_ <= 0) return "Zqq internal bug (#4.3.0)";
  end_message();
  put_bytes(std::string_view("", 1));  // the final NUL, unless failed
  flush_buffer();
  env_fd_.reset();

  // notqmail: read up to 255 bytes of the child's fd 6 before reaping it.
  std::string custom;
  char c[kCustomTextMax];
  while (custom.size() < kCustomTextMax) {
    auto r = read_some(custom_fd_.get(), c, kCustomTextMax - custom.size());
    if (!r || *r == 0) break;
    custom.append(c, *r);
  }
  custom_fd_.reset();

  int st = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &st, 0);
  } while (r == -1 && errno == EINTR);
  pid_t was = pid_;
  pid_ = -1;
  if (r != was) return "Zqq waitpid surprise (#4.3.0)";
  if (!WIFEXITED(st)) return "Zqq crashed (#4.3.0)";
  int code = WEXITSTATUS(st);

  if (code == 0) return failed_ ? "Zqq read error (#4.3.0)" : "";
  if (code == 82) {
    // The text is one reply line: we cut it at the first CR, LF or NUL so
    // that a filter cannot add lines to an SMTP reply, and accept it only
    // when it says D or Z as the protocol wants.
    size_t end = custom.find_first_of(std::string_view("\r\n\0", 3));
    if (end != std::string::npos) custom.resize(end);
    if (custom.size() > 2 && (custom[0] == 'D' || custom[0] == 'Z')) return custom;
  }
  return queue_exit_text(code);
}

}  // namespace qng

// enqueue.cc: qmail-queue, step by step as docs/INTERNALS.md describes it.
//
//   1. pid/<pid>.<time>.<seq> created O_EXCL; its inode number is N.
//   2. link it to mess/S/N, unlink the pid file          (state S2)
//   3. write Received line + message, fsync; fsync mess/S
//   4. create intd/N O_EXCL, write u p F T... records    (state S3)
//      fsync intd/N; fsync intd/
//   5. link intd/N to todo/N                              (S4: committed)
//      fsync todo/; only now do we answer 0
//   6. poke lock/trigger so qmail-send looks at todo/
//
// Before step 5 every failure truncates and removes what we made (intd
// first, then mess: intd without mess would be an illegal state); the 24 h
// alarm removes nothing, qmail-send's 36 h cleanup does (kOssified >
// kQueueAlarm). After the link of step 5 the message belongs to qmail-send:
// nothing is removed any more, even if the directory fsync fails (then we
// exit 53 and the sender may retry: a duplicate, never a loss).
#include "enqueue.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <string>

#include "date.h"
#include "fd.h"
#include "instance.h"
#include "io.h"
#include "queue.h"

namespace qng {
namespace {

// qmail-queue's exit codes (qmail-queue(8)).
constexpr int kOk = 0;
constexpr int kTooLong = 11;        // an address longer than kAddrMax - 1 bytes
constexpr int kRefused = 31;        // more than kMaxRecipients recipients
constexpr int kTimeout = 52;        // the 24 h alarm
constexpr int kWriteError = 53;     // write, fsync or close failed; disk full
constexpr int kReadError = 54;      // message or envelope unreadable or cut short
constexpr int kHomeTrouble = 61;
constexpr int kQueueTrouble = 62;
constexpr int kPidTrouble = 63;
constexpr int kMessTrouble = 64;
constexpr int kIntdTrouble = 65;
constexpr int kTodoTrouble = 66;
constexpr int kBug = 81;
constexpr int kFormat = 91;         // envelope record with a wrong lead byte

constexpr int kAddrMax = 1003;      // qmail's ADDR: 1002 address bytes + NUL
constexpr unsigned long kMaxRecipients = 1000000;

extern "C" void on_alarm(int) { ::_exit(kTimeout); }  // thou shalt not clean up here
extern "C" void on_bug(int) { ::_exit(kBug); }

void setup_signals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  // EPIPE and EFBIG instead of death; no stray signal stops us half way.
  for (int s : {SIGPIPE, SIGVTALRM, SIGPROF, SIGQUIT, SIGINT, SIGHUP, SIGXCPU, SIGXFSZ})
    sigaction(s, &ign, nullptr);
  struct sigaction alrm {};
  alrm.sa_handler = on_alarm;
  sigemptyset(&alrm.sa_mask);
  sigaction(SIGALRM, &alrm, nullptr);
  struct sigaction bug {};
  bug.sa_handler = on_bug;
  sigemptyset(&bug.sa_mask);
  for (int s : {SIGILL, SIGABRT, SIGFPE, SIGBUS, SIGSEGV, SIGSYS}) sigaction(s, &bug, nullptr);
}

// "invoked by uid 1000", or qmail's names for the alias, qmaild and qmails
// users (looked up by name: they need not exist in an unprivileged instance).
std::string invoker(uid_t uid) {
  const struct {
    const char* user;
    const char* says;
  } known[] = {{"alias", "by alias"}, {"qmaild", "from network"}, {"qmails", "for bounce"}};
  for (const auto& k : known) {
    const passwd* pw = ::getpwnam(k.user);
    if (pw && pw->pw_uid == uid) return k.says;
  }
  return "by uid " + std::to_string(uid);
}

// Truncates and removes what this run made, newest first, unless the
// message was committed. Stops at the first unlink failure: mess must
// never disappear while intd still names it.
struct Undo {
  std::string pid_fn, mess_fn, intd_fn;
  int mess_fd = -1, intd_fd = -1;
  bool committed = false;

  ~Undo() {
    if (committed) return;
    if (!pid_fn.empty()) ::unlink(pid_fn.c_str());
    if (!intd_fn.empty()) {
      if (intd_fd >= 0) if (::ftruncate(intd_fd, 0) != 0) {}  // best effort: unlinked next
      if (::unlink(intd_fn.c_str()) == -1) return;
    }
    if (!mess_fn.empty()) {
      if (mess_fd >= 0) if (::ftruncate(mess_fd, 0) != 0) {}  // best effort: unlinked next
      ::unlink(mess_fn.c_str());
    }
  }
};

// Copies one NUL-terminated address from the envelope; 0, kReadError or
// kTooLong. The NUL is copied too.
int copy_address(Reader& in, Writer& out) {
  for (int len = 0; len < kAddrMax; ++len) {
    char ch;
    auto got = in.get(ch);
    if (!got || !*got) return kReadError;
    out.put(ch);
    if (ch == '\0') return kOk;
  }
  return kTooLong;
}

// Copies fd 0 to the message file; 0, kReadError or kWriteError.
int copy_message(int to_fd) {
  std::string buf(65536, '\0');
  for (;;) {
    auto n = read_some(0, buf.data(), buf.size());
    if (!n) return kReadError;
    if (*n == 0) return kOk;
    if (!write_all(to_fd, std::string_view(buf.data(), *n))) return kWriteError;
  }
}

// Reads the envelope from fd 1 and writes the intd records after u and p.
int copy_envelope(Writer& out) {
  Reader in(1);
  char ch;
  auto got = in.get(ch);
  if (!got || !*got) return kReadError;
  if (ch != 'F') return kFormat;
  out.put(ch);
  if (int e = copy_address(in, out)) return e;
  // QUEUE_EXTRA would go here; it is empty, as in qmail.
  for (unsigned long recipients = 0;; ++recipients) {
    got = in.get(ch);
    if (!got || !*got) return kReadError;  // EOF before the final NUL: abort
    if (ch == '\0') return kOk;
    if (ch != 'T') return kFormat;
    if (recipients >= kMaxRecipients) return kRefused;
    out.put(ch);
    if (int e = copy_address(in, out)) return e;
  }
}

// One byte to lock/trigger wakes qmail-send; ENXIO (no reader) is fine.
void pull_trigger() {
  int fd = ::open("lock/trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd == -1) return;
  if (::write(fd, "", 1) != 1) {}  // best effort: qmail-send rescans anyway
  ::close(fd);
}

}  // namespace

int queue_message() {
  if (!ensure_std_fds()) return kReadError;
  setup_signals();
  ::umask(033);
  auto home = home_from_exe();
  if (!home) return kHomeTrouble;
  if (::chdir(home->c_str()) == -1) return kHomeTrouble;
  if (::chdir("queue") == -1) return kQueueTrouble;

  const unsigned long my_pid = static_cast<unsigned long>(::getpid());
  const uid_t uid = ::getuid();
  const time_t start = ::time(nullptr);
  const std::string received = "Received: (qmail " + std::to_string(my_pid) + " invoked " +
                               invoker(uid) + "); " + date822(start) + "\n";
  ::alarm(kQueueAlarm);  // must stay below qmail-send's kOssified cleanup

  Fd mess, intd;  // declared before undo: still open while undo truncates
  Undo undo;

  // 1. A fresh file in pid/ gives us a unique inode number N.
  for (int seq = 1; seq < 10 && !mess; ++seq) {
    std::string fn = "pid/" + std::to_string(my_pid) + "." +
                     std::to_string(static_cast<long long>(start)) + "." + std::to_string(seq);
    if (auto fd = open_excl(fn, 0644)) {
      mess = std::move(*fd);
      undo.pid_fn = fn;
    }
  }
  if (!mess) return kPidTrouble;
  struct stat st;
  if (::fstat(mess.get(), &st) == -1) return kPidTrouble;
  const unsigned long long n = st.st_ino;

  // 2. mess/S/N: the message now exists under its queue name (S2).
  if (::link(undo.pid_fn.c_str(), mess_path(n).c_str()) == -1) return kMessTrouble;
  undo.mess_fn = mess_path(n);
  undo.mess_fd = mess.get();
  if (::unlink(undo.pid_fn.c_str()) == -1) return kPidTrouble;
  undo.pid_fn.clear();

  // 3. Received line and message, on disk with its directory entry.
  if (!write_all(mess.get(), received)) return kWriteError;
  if (int e = copy_message(mess.get())) return e;
  if (!fsync_fd(mess.get(), "mess")) return kWriteError;
  if (!fsync_dir(dir_of(mess_path(n)))) return kWriteError;

  // 4. intd/N: the envelope (S3).
  if (auto fd = open_excl(intd_path(n), 0644)) {
    intd = std::move(*fd);
  } else {
    return kIntdTrouble;
  }
  undo.intd_fn = intd_path(n);
  undo.intd_fd = intd.get();
  Writer out(intd.get());
  out.put('u');
  out.put_number(uid);
  out.put('\0');
  out.put('p');
  out.put_number(my_pid);
  out.put('\0');
  if (int e = copy_envelope(out)) return e;
  if (!out.flush()) return kWriteError;
  if (!fsync_fd(intd.get(), "intd")) return kWriteError;
  if (!fsync_dir("intd")) return kWriteError;

  // 5. todo/N: the commit point (S4). From here on the message is queued.
  if (::link(intd_path(n).c_str(), todo_path(n).c_str()) == -1) return kTodoTrouble;
  undo.committed = true;
  if (!intd.close() || !mess.close()) return kWriteError;
  if (!fsync_dir("todo")) return kWriteError;

  // 6. Wake qmail-send.
  pull_trigger();
  return kOk;
}

}  // namespace qng

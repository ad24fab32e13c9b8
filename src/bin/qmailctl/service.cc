// service.cc: qmailctl start, stop, restart, doqueue, reload, stat.
//
// start runs `DIR/bin/qmail-start DEFAULTDELIVERY qmail-logger
// DIR/log/qmail-send` in a session of its own (setsid), stdin /dev/null,
// stdout and stderr appended to DIR/log/qmailctl.log. qmail-start execs
// qmail-send, so the child's pid, kept in DIR/supervise/qmail-send.pid, is
// qmail-send's. start returns once qmail-send holds lock/sendmutex.
// stop sends TERM and waits until every process of that session (qmail-send,
// the spawns, qmail-clean, the logger) has gone.
//
// Listeners (control/listen.smtp ...) are not started yet: that comes with
// the tcpserver-compatible listener. stat shows them down meanwhile.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "atomic.h"
#include "commands.h"
#include "control.h"
#include "failure.h"
#include "fd.h"
#include "layout.h"
#include "proc.h"
#include "queue_count.h"
#include "say.h"

namespace qng::ctl {

namespace {

constexpr int kStartWaitMs = 10000;
constexpr int kStopWaitMs = 60000;
constexpr int kPollMs = 20;
constexpr const char* kStartEnvKeep[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TZ"};

void sleep_ms(int ms) {
  struct timespec ts {ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

long long now_ms() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string pid_file(const std::string& dir) { return dir + "/" + kSendPidFile; }

// qmail-send's pid when it is running: the pid file names a live process
// that is qmail-send (or qmail-start about to become it, or one whose name
// we may not read).
std::optional<pid_t> send_running(const std::string& dir) {
  auto pid = read_pid_file(pid_file(dir));
  if (!pid || !*pid || !process_alive(**pid)) return std::nullopt;
  auto name = process_name(**pid);
  if (name && *name != "qmail-send" && *name != "qmail-start") return std::nullopt;
  return **pid;
}

Status check_instance(const std::string& dir) {
  struct stat st;
  if (::stat((dir + "/control").c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Error::perm(dir + " is not an instance (no control/); make one with qmailctl init");
  return {};
}

// An unprivileged instance runs as its owner only; the system one as root.
Status check_runner(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return Error::last("unable to stat " + dir);
  uid_t me = ::geteuid();
  if (st.st_uid == 0 && me != 0) return Error::perm(dir + " is a system instance: run as root");
  if (st.st_uid != 0 && me != st.st_uid)
    return Error::perm(dir + " belongs to uid " + std::to_string(st.st_uid) +
                       ": run qmailctl as that user (e.g. runuser -u USER -- qmailctl ...)");
  return {};
}

std::vector<std::string> start_env(const std::string& dir) {
  std::vector<std::string> env = {"PATH=" + dir + "/bin:/usr/local/bin:/usr/bin:/bin",
                                  "QMAILHOME=" + dir};
  for (const char* k : kStartEnvKeep)
    if (const char* v = std::getenv(k)) env.push_back(std::string(k) + "=" + v);
  return env;
}

// The child: a session of its own, fds 0-2 set, nothing else open; exec.
[[noreturn]] void exec_start(const std::string& dir, int log_fd, std::vector<std::string>& argv,
                             std::vector<std::string>& env) {
  ::setsid();
  int null = ::open("/dev/null", O_RDONLY);
  if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0)
    _exit(111);
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  if (::chdir(dir.c_str()) != 0) _exit(111);
  auto cargv = c_argv(argv);
  auto cenv = c_argv(env);
  ::execve(cargv[0], cargv.data(), cenv.data());
  const char msg[] = "qmailctl: fatal: unable to run qmail-start\n";
  (void)!::write(2, msg, sizeof msg - 1);
  _exit(111);
}

int start_send(const std::string& dir) {
  if (auto pid = send_running(dir)) {
    say("qmail-send: already running (pid " + std::to_string(*pid) + ")");
    return kExitOk;
  }
  Control control(dir + "/control");
  auto dd = control.line_or("defaultdelivery", false, "./Maildir/");
  if (!dd) return fatal(dd.error());
  if (dd->empty()) *dd = "./Maildir/";
  std::string log = dir + "/" + kCtlLog;
  auto log_fd = open_append(log, 0644);
  if (!log_fd) return fatal(Error::sys(log_fd.error().code(), "unable to open " + log));
  if (::unlink(pid_file(dir).c_str()) != 0 && errno != ENOENT)
    return fatal(Error::last("unable to remove " + pid_file(dir)));

  std::vector<std::string> argv = {dir + "/bin/qmail-start", *dd, "qmail-logger",
                                   dir + "/" + kSendLogDir};
  std::vector<std::string> env = start_env(dir);
  pid_t pid = ::fork();
  if (pid < 0) return fatal(Error::last("unable to fork"));
  if (pid == 0) exec_start(dir, log_fd->get(), argv, env);

  if (auto st = write_file_atomic(pid_file(dir), std::to_string(pid) + "\n", 0644); !st) {
    ::kill(pid, SIGTERM);
    return fatal(st.error());
  }
  std::string mutex = dir + "/" + kSendMutex;
  long long deadline = now_ms() + kStartWaitMs;
  for (;;) {
    int status = 0;
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      ::unlink(pid_file(dir).c_str());
      std::string how = WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status))
                                          : "was killed by signal " +
                                                std::to_string(WTERMSIG(status));
      return fatal(kExitTemp, "qmail-send " + how + " while starting; see " + log);
    }
    auto name = process_name(pid);
    if (name && *name == "qmail-send" && holds_flock(pid, mutex)) break;
    if (now_ms() >= deadline) {
      ::kill(pid, SIGTERM);
      return fatal(kExitTemp, "qmail-send did not take " + std::string(kSendMutex) + " within " +
                                  std::to_string(kStartWaitMs / 1000) + " seconds; see " + log);
    }
    sleep_ms(kPollMs);
  }
  say("qmail-send: started (pid " + std::to_string(pid) + ")");
  return kExitOk;
}

int stop_send(const std::string& dir) {
  auto pid = send_running(dir);
  if (!pid) {
    if (::unlink(pid_file(dir).c_str()) != 0 && errno != ENOENT)
      return fatal(Error::last("unable to remove " + pid_file(dir)));
    say("qmail-send: not running");
    return kExitOk;
  }
  if (::kill(*pid, SIGTERM) != 0 && errno != ESRCH)
    return fatal(Error::last("unable to signal qmail-send (pid " + std::to_string(*pid) + ")"));
  // qmail-send finishes the deliveries under way, then exits; its helpers
  // follow when their pipes close. start made it a session leader.
  long long deadline = now_ms() + kStopWaitMs;
  while (process_alive(*pid) || !session_members(*pid).empty()) {
    if (now_ms() >= deadline)
      return fatal(kExitTemp, "qmail-send (pid " + std::to_string(*pid) + ") or its helpers " +
                                  "still running after " + std::to_string(kStopWaitMs / 1000) +
                                  " seconds");
    sleep_ms(kPollMs);
  }
  if (::unlink(pid_file(dir).c_str()) != 0 && errno != ENOENT)
    return fatal(Error::last("unable to remove " + pid_file(dir)));
  say("qmail-send: stopped");
  return kExitOk;
}

}  // namespace

int run_start(const std::string& dir) {
  if (auto st = check_instance(dir); !st) return fatal(st.error());
  if (auto st = check_runner(dir); !st) return fatal(st.error());
  return start_send(dir);
}

int run_stop(const std::string& dir) {
  if (auto st = check_instance(dir); !st) return fatal(st.error());
  return stop_send(dir);
}

int run_restart(const std::string& dir) {
  if (auto st = check_instance(dir); !st) return fatal(st.error());
  if (auto st = check_runner(dir); !st) return fatal(st.error());
  if (int code = stop_send(dir); code != kExitOk) return code;
  return start_send(dir);
}

int run_signal(const std::string& dir, int sig) {
  if (auto st = check_instance(dir); !st) return fatal(st.error());
  auto pid = send_running(dir);
  if (!pid) return fatal(kExitTemp, "qmail-send is not running");
  if (::kill(*pid, sig) != 0)
    return fatal(Error::last("unable to signal qmail-send (pid " + std::to_string(*pid) + ")"));
  say(std::string("qmail-send: sent ") + (sig == SIGALRM ? "ALRM" : sig == SIGHUP ? "HUP" : "signal") +
      " (pid " + std::to_string(*pid) + ")");
  return kExitOk;
}

int run_stat(const std::string& dir) {
  if (auto st = check_instance(dir); !st) return fatal(st.error());
  if (auto pid = send_running(dir)) {
    struct stat st;
    long long up = 0;
    if (::stat(pid_file(dir).c_str(), &st) == 0) {
      up = static_cast<long long>(::time(nullptr)) - static_cast<long long>(st.st_mtime);
      if (up < 0) up = 0;
    }
    say("qmail-send: up (pid " + std::to_string(*pid) + ") " + std::to_string(up) + " seconds");
  } else {
    say("qmail-send: down");
  }
  for (const Service& s : kServices) {
    struct stat st;
    if (::stat((dir + "/" + s.listen).c_str(), &st) == 0) say(std::string(s.program) + ": down");
  }
  auto counts = queue_counts(dir);
  if (!counts) return fatal(counts.error());
  say("messages in queue: " + std::to_string(counts->messages));
  say("messages in queue but not yet preprocessed: " + std::to_string(counts->todo));
  return kExitOk;
}

}  // namespace qng::ctl

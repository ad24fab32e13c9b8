// service.cc: qmailctl start, stop, restart, doqueue, reload, stat.
//
// start runs `DIR/bin/qmail-start DEFAULTDELIVERY qmail-logger
// DIR/log/qmail-send` in a session of its own (setsid), stdin /dev/null,
// stdout and stderr appended to DIR/log/qmailctl.log. qmail-start execs
// qmail-send, so the child's pid, kept in DIR/supervise/qmail-send.pid, is
// qmail-send's; it is up once qmail-send holds lock/sendmutex. Then one
// tcpserver per control/listen.SERVICE (listener.cc), each up once it
// accepts a connection. If one fails, start stops what it started and
// exits 111.
// stop stops the listeners (no new mail comes in), then sends qmail-send
// TERM and waits until every process of its session (qmail-send, the
// spawns, qmail-clean, the logger) has gone.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "atomic.h"
#include "commands.h"
#include "control.h"
#include "daemon.h"
#include "failure.h"
#include "fd.h"
#include "layout.h"
#include "listener.h"
#include "proc.h"
#include "queue_count.h"
#include "say.h"

namespace qng::ctl {

namespace {

constexpr int kStartWaitMs = 10000;
constexpr int kStopWaitMs = 60000;
constexpr int kPollMs = 20;

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

// *started tells whether this call started it (it was not running).
int start_send(const std::string& dir, bool* started) {
  *started = false;
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
  auto null = open_read("/dev/null");
  if (!null) return fatal(Error::sys(null.error().code(), "unable to open /dev/null"));
  if (::unlink(pid_file(dir).c_str()) != 0 && errno != ENOENT)
    return fatal(Error::last("unable to remove " + pid_file(dir)));

  auto child = spawn_detached(dir, null->get(), log_fd->get(), log_fd->get(),
                              {dir + "/bin/qmail-start", *dd, "qmail-logger",
                               dir + "/" + kSendLogDir},
                              daemon_env(dir));
  if (!child) return fatal(child.error());
  pid_t pid = *child;
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
      return fatal(kExitTemp, "qmail-send " + wait_status_text(status) + " while starting; see " + log);
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
  *started = true;
  say("qmail-send: started (pid " + std::to_string(pid) + ")");
  return kExitOk;
}

int stop_send(const std::string& dir, bool quiet = false) {
  auto pid = send_running(dir);
  if (!pid) {
    if (::unlink(pid_file(dir).c_str()) != 0 && errno != ENOENT)
      return fatal(Error::last("unable to remove " + pid_file(dir)));
    if (!quiet) say("qmail-send: not running");
    return kExitOk;
  }
  if (::kill(*pid, SIGTERM) != 0 && errno != ESRCH)
    return fatal(Error::last("unable to signal qmail-send (pid " + std::to_string(*pid) + ")"));
  // qmail-send finishes the deliveries under way, then exits; its helpers
  // follow when their pipes close. start made it a session leader.
  long long deadline = now_ms() + kStopWaitMs;
  while (process_alive(*pid) || !session_members(*pid).empty()) {
    int status;
    (void)::waitpid(*pid, &status, WNOHANG);  // ours when start just failed
    if (now_ms() >= deadline)
      return fatal(kExitTemp, "qmail-send (pid " + std::to_string(*pid) + ") or its helpers " +
                                  "still running after " + std::to_string(kStopWaitMs / 1000) +
                                  " seconds");
    sleep_ms(kPollMs);
  }
  if (::unlink(pid_file(dir).c_str()) != 0 && errno != ENOENT)
    return fatal(Error::last("unable to remove " + pid_file(dir)));
  if (!quiet) say("qmail-send: stopped");
  return kExitOk;
}

// Every listener that is configured or still has a pid file.
bool listener_known(const std::string& dir, const Service& s) {
  struct stat st;
  return ::stat((dir + "/" + s.listen).c_str(), &st) == 0 ||
         ::stat((dir + "/" + s.pid_file).c_str(), &st) == 0;
}

int start_all(const std::string& dir) {
  // Everything that can be checked is checked before anything starts.
  auto plans = configured_listeners(dir);
  if (!plans) return fatal(plans.error());
  std::optional<ListenerSettings> settings;
  if (!plans->empty()) {
    auto st = listener_settings(dir);
    if (!st) return fatal(st.error());
    settings = *st;
    for (const auto& p : *plans) {
      if (auto r = check_programs(dir, *p.service); !r) return fatal(r.error());
      if (auto r = ensure_rules(dir, *p.service); !r) return fatal(r.error());
    }
  }

  bool send_started = false;
  if (int code = start_send(dir, &send_started); code != kExitOk) return code;
  std::vector<const Service*> started;
  for (const auto& p : *plans) {
    bool now = false;
    int code = start_listener(dir, p, *settings, &now);
    if (now) started.push_back(p.service);
    if (code == kExitOk) continue;
    // Leave the instance as it was before this start.
    std::string undone;
    for (const Service* s : started) {
      (void)stop_listener(dir, *s, true);
      undone += std::string(undone.empty() ? "" : ", ") + s->program;
    }
    if (send_started) {
      (void)stop_send(dir, true);
      undone += std::string(undone.empty() ? "" : ", ") + "qmail-send";
    }
    if (!undone.empty()) warn("start failed: stopped again what it had started: " + undone);
    return code;
  }
  return kExitOk;
}

int stop_all(const std::string& dir) {
  int worst = kExitOk;
  for (const Service& s : kServices) {
    if (!listener_known(dir, s)) continue;
    if (int code = stop_listener(dir, s); code != kExitOk) worst = code;
  }
  if (int code = stop_send(dir); code != kExitOk) worst = code;
  return worst;
}

}  // namespace

int run_start(const std::string& dir) {
  if (auto st = check_instance(dir); !st) return fatal(st.error());
  if (auto st = check_runner(dir); !st) return fatal(st.error());
  return start_all(dir);
}

int run_stop(const std::string& dir) {
  if (auto st = check_instance(dir); !st) return fatal(st.error());
  return stop_all(dir);
}

int run_restart(const std::string& dir) {
  if (auto st = check_instance(dir); !st) return fatal(st.error());
  if (auto st = check_runner(dir); !st) return fatal(st.error());
  if (int code = stop_all(dir); code != kExitOk) return code;
  return start_all(dir);
}

std::optional<pid_t> running_send_pid(const std::string& dir) { return send_running(dir); }

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
    say("qmail-send: up (pid " + std::to_string(*pid) + ") " +
        std::to_string(seconds_since(pid_file(dir))) + " seconds");
  } else {
    say("qmail-send: down");
  }
  for (const Service& s : kServices)
    if (listener_known(dir, s)) say(listener_status(dir, s));
  auto counts = queue_counts(dir);
  if (!counts) return fatal(counts.error());
  say("messages in queue: " + std::to_string(counts->messages));
  say("messages in queue but not yet preprocessed: " + std::to_string(counts->todo));
  return kExitOk;
}

}  // namespace qng::ctl

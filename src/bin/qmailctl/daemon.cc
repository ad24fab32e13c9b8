// daemon.cc: starting detached programs, and the checks around it.
#include "daemon.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "proc.h"

namespace qng::ctl {

namespace {

constexpr const char* kEnvKeep[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TZ"};

// In the child: report to descriptor 2 and leave.
[[noreturn]] void child_die(const std::string& what) {
  std::string msg = "qmailctl: fatal: " + what + ": " + std::strerror(errno) + "\n";
  (void)!::write(2, msg.data(), msg.size());
  _exit(111);
}

}  // namespace

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

Status check_instance(const std::string& dir) {
  struct stat st;
  if (::stat((dir + "/control").c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Error::perm(dir + " is not an instance (no control/); make one with qmailctl init");
  return {};
}

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

bool system_instance(const std::string& dir) {
  struct stat st;
  return ::stat(dir.c_str(), &st) == 0 && st.st_uid == 0;
}

std::vector<std::string> daemon_env(const std::string& dir) {
  std::vector<std::string> env = {"PATH=" + dir + "/bin:/usr/local/bin:/usr/bin:/bin",
                                  "QMAILHOME=" + dir};
  for (const char* k : kEnvKeep)
    if (const char* v = std::getenv(k)) env.push_back(std::string(k) + "=" + v);
  return env;
}

Result<pid_t> spawn_detached(const std::string& cwd, int in, int out, int err,
                             const std::vector<std::string>& argv,
                             const std::vector<std::string>& env,
                             const std::optional<Creds>& creds) {
  if (argv.empty()) return Error::perm("nothing to run");
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = env;
  std::vector<char*> cargv = c_argv(args);
  std::vector<char*> cenv = c_argv(envs);
  std::string name = argv[0].substr(argv[0].rfind('/') + 1);
  pid_t pid = ::fork();
  if (pid < 0) return Error::last("unable to fork");
  if (pid != 0) return pid;

  // The child. Move the three descriptors out of the way first: one of
  // them may itself be 0, 1 or 2.
  ::setsid();
  int high[3] = {::fcntl(in, F_DUPFD_CLOEXEC, 10), ::fcntl(out, F_DUPFD_CLOEXEC, 10),
                 ::fcntl(err, F_DUPFD_CLOEXEC, 10)};
  if (high[0] < 0 || high[1] < 0 || high[2] < 0) _exit(111);
  for (int i = 0; i < 3; ++i)
    if (::dup2(high[i], i) < 0) _exit(111);
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::signal(SIGCHLD, SIG_DFL);
  if (::chdir(cwd.c_str()) != 0) child_die("unable to chdir to " + cwd);
  if (creds) {
    if (::setgroups(1, &creds->gid) != 0) child_die("unable to set groups for " + name);
    if (::setgid(creds->gid) != 0) child_die("unable to set gid for " + name);
    if (::setuid(creds->uid) != 0) child_die("unable to set uid for " + name);
  }
  ::execve(cargv[0], cargv.data(), cenv.data());
  child_die("unable to run " + name);
}

std::string wait_status_text(int status) {
  if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

long long seconds_since(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  long long up = static_cast<long long>(::time(nullptr)) - static_cast<long long>(st.st_mtime);
  return up < 0 ? 0 : up;
}

}  // namespace qng::ctl

// proc.cc: /proc reading and running programs.
#include "proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "child.h"
#include "fd.h"
#include "size.h"

namespace qng::ctl {

namespace {

// Reads a small /proc file; nullopt when it cannot be read.
std::optional<std::string> slurp(const std::string& path, size_t max) {
  auto fd = open_read(path);
  if (!fd) return std::nullopt;
  std::string s;
  char buf[4096];
  while (s.size() < max) {
    auto n = read_some(fd->get(), buf, sizeof buf);
    if (!n) return std::nullopt;
    if (*n == 0) break;
    s.append(buf, *n);
  }
  if (s.size() > max) s.resize(max);
  return s;
}

}  // namespace

std::optional<pid_t> parse_pid(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  auto v = parse_decimal(text, 1 << 22);
  if (!v || *v == 0) return std::nullopt;
  return static_cast<pid_t>(*v);
}

Result<std::optional<pid_t>> read_pid_file(const std::string& path) {
  auto fd = open_read(path);
  if (!fd) {
    if (fd.error().code() == ENOENT) return std::optional<pid_t>();
    return Error::sys(fd.error().code(), "unable to read " + path);
  }
  char buf[32];
  auto n = read_some(fd->get(), buf, sizeof buf);
  if (!n) return Error::sys(n.error().code(), "unable to read " + path);
  auto pid = parse_pid(std::string_view(buf, *n));
  if (!pid) return Error::temp(path + " does not hold a pid", EPROTO);
  return std::optional<pid_t>(*pid);
}

std::optional<char> parse_stat_state(std::string_view stat) {
  // The command name may hold spaces and parentheses: skip to the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos || close + 2 >= stat.size()) return std::nullopt;
  if (stat[close + 1] != ' ') return std::nullopt;
  return stat[close + 2];
}

std::optional<pid_t> parse_stat_session(std::string_view stat) {
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  // Fields after the name: state, ppid, pgrp, session.
  for (int field = 0; field < 4; ++field) {
    size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) return std::nullopt;
    rest = rest.substr(start);
    size_t end = rest.find(' ');
    std::string_view word = rest.substr(0, end);
    if (field == 3) {
      auto v = parse_decimal(word, 1 << 22);
      if (!v) return std::nullopt;
      return static_cast<pid_t>(*v);
    }
    if (end == std::string_view::npos) return std::nullopt;
    rest = rest.substr(end);
  }
  return std::nullopt;
}

std::vector<pid_t> session_members(pid_t sid) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (struct dirent* e = ::readdir(d)) {
    auto pid = parse_pid(e->d_name);
    if (!pid) continue;
    auto stat = slurp("/proc/" + std::string(e->d_name) + "/stat", 4096);
    if (!stat) continue;
    auto state = parse_stat_state(*stat);
    if (state && (*state == 'Z' || *state == 'X')) continue;
    if (parse_stat_session(*stat) == sid) out.push_back(*pid);
  }
  ::closedir(d);
  return out;
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  auto stat = slurp("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat) return true;  // no /proc: kill(0) must do
  auto state = parse_stat_state(*stat);
  return !(state && (*state == 'Z' || *state == 'X'));
}

std::optional<std::string> process_name(pid_t pid) {
  auto cmd = slurp("/proc/" + std::to_string(pid) + "/cmdline", 4096);
  if (!cmd || cmd->empty()) return std::nullopt;
  std::string argv0 = cmd->substr(0, cmd->find('\0'));
  size_t slash = argv0.rfind('/');
  if (slash != std::string::npos) argv0.erase(0, slash + 1);
  return argv0;
}

bool holds_flock(pid_t pid, const std::string& path) {
  struct stat want;
  if (::stat(path.c_str(), &want) != 0) return false;
  std::string base = "/proc/" + std::to_string(pid);
  DIR* d = ::opendir((base + "/fd").c_str());
  if (!d) return false;
  bool held = false;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    struct stat st;
    if (::stat((base + "/fd/" + e->d_name).c_str(), &st) != 0) continue;
    if (st.st_dev != want.st_dev || st.st_ino != want.st_ino) continue;
    auto info = slurp(base + "/fdinfo/" + e->d_name, 8192);
    if (info && info->find("lock:") != std::string::npos &&
        info->find("FLOCK") != std::string::npos) {
      held = true;
      break;
    }
  }
  ::closedir(d);
  return held;
}

std::vector<char*> c_argv(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

Result<int> run_wait(const std::vector<std::string>& argv,
                     const std::optional<std::vector<std::string>>& env,
                     const std::string& cwd) {
  if (argv.empty()) return Error::perm("nothing to run");
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = env ? *env : std::vector<std::string>();
  std::vector<char*> cargs = c_argv(args);
  std::vector<char*> cenv = c_argv(envs);
  pid_t pid = ::fork();
  if (pid < 0) return Error::last("unable to fork");
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0 && null != 0) {
      ::dup2(null, 0);
      ::close(null);
    }
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(111);
    if (env)
      ::execve(cargs[0], cargs.data(), cenv.data());
    else
      ::execv(cargs[0], cargs.data());
    _exit(errno == ENOENT ? 127 : 126);
  }
  auto how = wait_child(pid);
  if (!how) return how.error();
  return how->crashed ? 128 + how->code : how->code;
}

}  // namespace qng::ctl

// prefix.cc: running a command with header text prefixed to its input.
#include "prefix.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "child.h"
#include "date.h"
#include "failure.h"
#include "fd.h"

namespace qng::predate {

Result<int> run_with_prefix(const std::string& name, const std::vector<std::string>& argv,
                            std::string_view prefix) {
  if (argv.empty()) return Error::perm("no command");
  Fd rd, wr;
  if (auto s = make_pipe(rd, wr); !s)
    return Error::temp("unable to create pipe: " + s.error().message());

  // Everything the child needs is made before fork: it only calls
  // async-signal-safe functions.
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::string fail_prefix = name + ": fatal: unable to run " + argv[0] + ": ";

  // Writing to a command that stopped reading is EPIPE, not death.
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, &old);

  pid_t pid = ::fork();
  if (pid == -1) {
    ::sigaction(SIGPIPE, &old, nullptr);
    return Error::temp(std::string("unable to fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_DFL);
    if (rd.get() == 0) {
      if (::fcntl(0, F_SETFD, 0) == -1) ::_exit(111);  // keep it across exec
    } else if (::dup2(rd.get(), 0) == -1) {
      ::_exit(111);
    }
    ::execvp(cargv[0], cargv.data());
    const char* why = std::strerror(errno);
    (void)!::write(2, fail_prefix.data(), fail_prefix.size());
    (void)!::write(2, why, std::strlen(why));
    (void)!::write(2, "\n", 1);
    ::_exit(111);
  }
  rd.reset();

  bool open = static_cast<bool>(write_all(wr.get(), prefix));
  char buf[65536];
  while (open) {
    auto n = read_some(0, buf, sizeof buf);
    if (!n || *n == 0) break;
    if (!write_all(wr.get(), std::string_view(buf, *n))) open = false;
  }
  wr.reset();
  ::sigaction(SIGPIPE, &old, nullptr);

  auto ended = wait_child(pid);
  if (!ended) return Error::temp("wait failed: " + ended.error().message());
  if (ended->crashed) return Error::temp("child crashed");
  return ended->code;
}

namespace {
void say(int fd, const std::string& text) { (void)write_all(fd, text); }
}  // namespace

int program_main(const Program& p, int argc, char** argv,
                 int (*run)(const std::vector<std::string>& args)) {
  try {
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    if (args.size() == 1 && args[0] == "--help") {
      say(1, std::string("usage: ") + p.usage + "\n");
      return kExitOk;
    }
    if (args.size() < p.min_args) {
      say(2, std::string(p.name) + ": usage: " + p.usage + "\n");
      return kExitPerm;
    }
    return run(args);
  } catch (...) {
    say(2, std::string(p.name) + ": fatal: out of memory\n");
    return kExitTemp;
  }
}

int run_prefixed(const Program& p, const std::vector<std::string>& argv,
                 std::string_view prefix) {
  auto code = run_with_prefix(p.name, argv, prefix);
  if (!code) {
    say(2, std::string(p.name) + ": fatal: " + code.error().message() + "\n");
    return kExitTemp;
  }
  return *code;
}

std::string local_date_line(time_t t) { return "Date: " + date5322_local(t) + "\n"; }

std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '\r' || c == '\n') c = ' ';
  return out;
}

}  // namespace qng::predate

// child.cc: fork, exec, wait.
#include "child.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "error.h"

namespace qng {

ChildExit decode_wait_status(int wstatus) {
  if (WIFEXITED(wstatus)) return {false, WEXITSTATUS(wstatus)};
  if (WIFSIGNALED(wstatus)) return {true, WTERMSIG(wstatus)};
  return {true, 0};
}

Result<ChildExit> wait_child(pid_t pid) {
  int wstatus = 0;
  for (;;) {
    if (::waitpid(pid, &wstatus, 0) == pid) return decode_wait_status(wstatus);
    if (errno != EINTR) return Error::last("wait failed");
  }
}

Result<ChildExit> run_child(const std::vector<std::string>& argv) {
  if (argv.empty()) return Error::perm("no program", EINVAL);
  // Built before fork: the child only execs or exits.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == -1) return Error::last("unable to fork");
  if (pid == 0) {
    ::execvp(args[0], args.data());
    ::_exit(is_temp(errno) ? 111 : 100);
  }
  return wait_child(pid);
}

Result<Condition> run_condition(const std::vector<std::string>& argv) {
  auto ended = run_child(argv);
  if (!ended) return ended.error();
  if (ended->crashed) return Error::temp("child crashed");
  if (ended->code == 111) return Condition::kTemporary;
  return ended->code == 0 ? Condition::kYes : Condition::kNo;
}

}  // namespace qng

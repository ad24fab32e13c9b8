// child.h: running a program as a child process and reading how it ended.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "result.h"

namespace qng {

// How a child ended: an exit code, or killed by a signal ("crashed").
struct ChildExit {
  bool crashed = false;
  int code = 0;  // exit code, or the signal number when crashed
};

ChildExit decode_wait_status(int wstatus);

// Waits for pid (EINTR retried).
Result<ChildExit> wait_child(pid_t pid);

// Forks; the child execvp()s argv with the caller's descriptors and
// environment, and exits 111 if exec fails with a temporary errno, else 100
// (qmail's condredirect, bouncesaying, except). Then waits for it.
Result<ChildExit> run_child(const std::vector<std::string>& argv);

// How qmail's condredirect, bouncesaying and except read a program run by
// run_child(): exit 0 "yes", exit 111 a temporary error, any other exit
// "no". A program killed by a signal is an error ("child crashed").
enum class Condition { kYes, kNo, kTemporary };
Result<Condition> run_condition(const std::vector<std::string>& argv);

}  // namespace qng

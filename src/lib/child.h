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

}  // namespace qng

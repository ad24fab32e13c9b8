// prefix.h: running a command whose standard input is some header text
// followed by our own standard input (predate, datemail, mailsubj).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace qng::predate {

// Starts argv (execvp: a name without '/' is looked up in $PATH) with its
// fd 0 a pipe; writes `prefix`, then copies our fd 0 into the pipe, closes
// it and waits. Returns the command's exit code. A command that cannot be
// run exits 111 after "NAME: fatal: unable to run PROG: why" on fd 2
// (`name` is the calling program's); one that crashed is an error. A
// command that stops reading early ends the copy; its exit code counts.
Result<int> run_with_prefix(const std::string& name, const std::vector<std::string>& argv,
                            std::string_view prefix);

// The frame the three programs share. `run` gets the arguments after
// argv[0]; "--help" alone prints "usage: USAGE" on fd 1 (exit 0); fewer
// than min_args print "NAME: usage: USAGE" on fd 2 (exit 100); running out
// of memory prints "NAME: fatal: out of memory" (exit 111).
struct Program {
  const char* name;
  const char* usage;
  size_t min_args;
};
int program_main(const Program& p, int argc, char** argv,
                 int (*run)(const std::vector<std::string>& args));

// run_with_prefix() for a program: an error is reported on fd 2 as
// "NAME: fatal: why" and gives exit 111; else the command's exit code.
int run_prefixed(const Program& p, const std::vector<std::string>& argv,
                 std::string_view prefix);

// "Date: Sun, 03 Mar 2024 10:05:01 +0100\n" in local time.
std::string local_date_line(time_t t);

// Text made safe for one header line: CR and LF become spaces.
std::string one_line(std::string_view s);

}  // namespace qng::predate

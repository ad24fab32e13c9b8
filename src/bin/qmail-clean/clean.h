// clean.h: qmail-clean's logic, callable from tests. cwd must be the queue.
#pragma once

#include <ctime>
#include <string_view>

namespace qng {

// The longest command qmail-clean accepts, its NUL included (qmail: 100).
constexpr size_t kCleanCommandMax = 100;

// Carries out one command (without its NUL): "foop/N" removes intd/N and
// mess/S/N, "todo/N" removes intd/N and todo/N. Returns the answer byte:
// '+' done (a missing file counts as removed), '!' an unlink (or the fsync
// of todo/) failed, 'x' the command is malformed.
char clean_command(std::string_view cmd);

// Removes pid/ files whose atime is kOssified seconds older than `now`:
// leftovers of qmail-queue runs that died before step 2.
void clean_pid_dir(time_t now);

// The loop: commands on fd `in`, answers on fd `out`, a pid/ sweep before
// the first command and then every 30 commands. Returns at end of input
// (0) or when an answer cannot be written (100).
int clean_loop(int in, int out);

}  // namespace qng

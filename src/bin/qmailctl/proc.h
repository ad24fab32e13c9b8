// proc.h: looking at processes through /proc, and running programs.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace qng::ctl {

// The pid in a pid file ("123\n"); nullopt when the file does not exist.
// A file that is not a decimal pid is an error (EPROTO).
Result<std::optional<pid_t>> read_pid_file(const std::string& path);
// Parses a pid file's text; nullopt unless it is digits (1..2^22) and an
// optional newline.
std::optional<pid_t> parse_pid(std::string_view text);

// Whether pid names a live process: it exists and is no zombie.
bool process_alive(pid_t pid);
// The last path component of the process's argv[0], or nullopt when the
// process is gone or its command line cannot be read.
std::optional<std::string> process_name(pid_t pid);
// The state letter of /proc/PID/stat's third field ("123 (name) S ...").
std::optional<char> parse_stat_state(std::string_view stat);
// The session id of /proc/PID/stat ("123 (name) S ppid pgrp session ...").
std::optional<pid_t> parse_stat_session(std::string_view stat);
// Live processes (no zombies) whose session is sid.
std::vector<pid_t> session_members(pid_t sid);
// Whether process pid has `path` open and holds a flock on it, as its
// /proc/PID/fdinfo says. False when that cannot be read.
bool holds_flock(pid_t pid, const std::string& path);

// Runs argv (argv[0] a path) with environment env (when given; else ours)
// and cwd, stdin /dev/null, and waits: the exit code, or 128 + signal.
Result<int> run_wait(const std::vector<std::string>& argv,
                     const std::optional<std::vector<std::string>>& env = std::nullopt,
                     const std::string& cwd = "");

// A NULL-terminated char* array over strings, for execve.
std::vector<char*> c_argv(std::vector<std::string>& v);

}  // namespace qng::ctl

// daemon.h: what start, stop and stat share for qmail-send and the
// listeners: clocks, the instance checks, the environment the daemons get,
// and starting a program detached in a session of its own.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "result.h"

namespace qng::ctl {

void sleep_ms(int ms);
long long now_ms();  // CLOCK_MONOTONIC

// DIR must hold control/ (made by qmailctl init).
Status check_instance(const std::string& dir);
// An unprivileged instance runs as its owner only; the system one as root.
Status check_runner(const std::string& dir);
// Whether DIR is the system instance (owned by root).
bool system_instance(const std::string& dir);

// PATH with DIR/bin first, QMAILHOME=DIR, and the sanitizer and TZ
// variables of our own environment; nothing else.
std::vector<std::string> daemon_env(const std::string& dir);

// Who a detached program runs as (setgroups {gid}, setgid, setuid).
struct Creds {
  uid_t uid;
  gid_t gid;
};

// Forks a child that leaves our session (setsid), gets `in`, `out`, `err`
// as descriptors 0, 1, 2 and nothing else, default signals, cwd `cwd`,
// optionally becomes `creds`, and execs argv[0] (a path) with env. If the
// exec fails it writes "qmailctl: fatal: unable to run NAME: ERROR" to its
// descriptor 2 and exits 111. Returns the child's pid.
Result<pid_t> spawn_detached(const std::string& cwd, int in, int out, int err,
                             const std::vector<std::string>& argv,
                             const std::vector<std::string>& env,
                             const std::optional<Creds>& creds = std::nullopt);

// How a child of ours ended, as text: "exited 111", "was killed by signal 9".
std::string wait_status_text(int status);

// qmail-send's pid when it runs (service.cc), for a HUP after an edit.
std::optional<pid_t> running_send_pid(const std::string& dir);

// Uptime in seconds of a daemon whose pid file is `path` (its mtime).
long long seconds_since(const std::string& path);

}  // namespace qng::ctl

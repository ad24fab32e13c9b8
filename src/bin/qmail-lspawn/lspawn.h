// lspawn.h: qmail-lspawn's logic: find the user controlling a local
// address and run qmail-local as that user; turn its end into a report.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "cdb.h"
#include "result.h"
#include "spawn.h"

namespace qng::lspawn {

// qmail's qlx.h: how the delivery child ends before it becomes qmail-local.
constexpr int kExitUsage = 112;     // internal bug, bad users/cdb record, setuid failed
constexpr int kExitRoot = 113;      // would deliver as root
constexpr int kExitNfs = 115;       // from qmail-getpw
constexpr int kExitNoAlias = 116;   // from qmail-getpw
constexpr int kExitCdb = 117;       // users/cdb unreadable
constexpr int kExitSys = 118;       // pipe, fork, dup2 failed
constexpr int kExitNoMem = 119;
constexpr int kExitExecSoft = 120;  // exec qmail-local failed temporarily
constexpr int kExitExecPw = 121;    // exec qmail-getpw failed
constexpr int kExitOtherUid = 122;  // qmail-ng: unprivileged instance, other uid
constexpr int kExitExecHard = 126;  // exec qmail-local failed permanently

// Cap on qmail-getpw's output (six fields; ext is at most an address).
constexpr size_t kGetpwMax = 2 * kSpawnMaxAddress + 4096;

// The report for a delivery child's wait status and output (qmail's
// qmail-lspawn.c): 0 K, 111/71/74/75 Z, crash Z, the codes above Z with a
// fixed text (126 D), anything else D; the text is the output up to its
// first NUL.
std::string report(int wstat, std::string_view output);

// The user a delivery runs as, and qmail-local's arguments.
struct Account {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string dash;
  std::string ext;
};

// Parses user \0 uid \0 gid \0 home \0 dash \0 ext \0 (qmail-getpw's output;
// also a users/cdb record once its NUL is added). Trailing bytes or a
// missing field: nullopt.
std::optional<Account> parse_account(std::string_view fields);

// users/cdb (assign_lookup): the account for local, or nullopt when no
// record matches.
Result<std::optional<Account>> lookup_users(const CdbReader& cdb, std::string_view local);

struct Config {
  std::string home;             // QMAILHOME
  std::string defaultdelivery;  // qmail-local's last argument
  bool privileged = false;      // a system instance: running as root
  uid_t getpw_uid = 0;          // qmailp, for qmail-getpw (privileged only)
  gid_t getpw_gid = 0;          // nofiles
};

// Starts the delivery: forks the child that runs deliver().
SpawnStart start(const Config& config, const SpawnCommand& cmd, const Fd& message);

// The delivery child: fds 0-2 set. Finds the account, becomes it and execs
// qmail-local; or _exits with one of the codes above (0 for an empty local
// part: nothing to deliver, qmail's <>).
[[noreturn]] void deliver(const Config& config, const SpawnCommand& cmd);

}  // namespace qng::lspawn

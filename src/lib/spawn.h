// spawn.h: the spawn side of qmail-send <-> qmail-lspawn / qmail-rspawn,
// and the protocol's wire format (docs/spawn-protocol.md).
//
// qmail's protocol with the slot widened to 2 bytes (big-endian), so that
// concurrency is not capped at 255:
//   banner  spawn -> send   2 bytes: the spawn's concurrency limit
//   command send -> spawn   slot(2) "S/N" \0 sender \0 recipient \0
//   report  spawn -> send   slot(2) K|Z|D text \0, in completion order
// S/N is the message's path relative to queue/mess. A slot is 0..limit-1 and
// unique among the channel's outstanding deliveries; qmail-send uses
// min(control/concurrencylocal|remote, banner) slots.
//
// run_spawn() is qmail's spawn.c: it reads commands on fd 0, starts one
// delivery child per command through the program's start function, collects
// each child's stdout+stderr and exit status, and writes the program's
// report for it on fd 1. It returns once fd 0 is at end of file and every
// child is done, so qmail-send's exit ends the spawns cleanly.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fd.h"
#include "result.h"

namespace qng {

// Concurrency limit a spawn announces (qmail's conf-spawn, which was <= 255).
constexpr unsigned kSpawnLimit = 1000;
// Caps on a command's fields (bytes, without the NUL). A longer field means
// qmail-send is broken: the spawn gives up (exit 111). Addresses get room
// beyond kMaxAddress for VERP senders and virtualdomains prefixes.
constexpr size_t kSpawnMaxMessage = 100;
constexpr size_t kSpawnMaxAddress = 4096;
// A report's letter and text together never pass this (qmail-send's cap).
constexpr size_t kSpawnMaxReport = 10000;
// qmail-lspawn's cap on a delivery's output, and qmail's note past it.
constexpr size_t kSpawnTruncate = 3000;
constexpr std::string_view kSpawnTooLong = "\nError report too long, sorry.\n";

struct SpawnCommand {
  unsigned slot = 0;
  std::string message;    // "S/N", relative to queue/mess
  std::string sender;     // already VERP-expanded for this recipient
  std::string recipient;
};

struct SpawnReport {
  unsigned slot = 0;
  char letter = 0;        // 'K' delivered, 'Z' temporary, 'D' permanent
  std::string text;
};

// ---- wire format (used by both sides and the tests) ----

std::string encode_spawn_banner(unsigned limit);
// The limit from the 2 banner bytes.
unsigned decode_spawn_banner(unsigned char hi, unsigned char lo);
std::string encode_spawn_command(const SpawnCommand& cmd);
// slot(2) + report + NUL, where report is the letter and the text. The
// report is cut at its first NUL and to kSpawnMaxReport bytes.
std::string encode_spawn_report(unsigned slot, std::string_view report);

// Splits the command stream into commands. Bytes may arrive in any pieces.
class SpawnCommandParser {
 public:
  explicit SpawnCommandParser(unsigned limit = kSpawnLimit) : limit_(limit) {}
  // Appends every command completed by `bytes` to `out`. EPROTO (temporary)
  // for a slot >= limit or a field past its cap; the stream is then broken
  // and the parser must not be fed again.
  Status feed(std::string_view bytes, std::vector<SpawnCommand>& out);
  // True when no partial command is buffered.
  bool at_boundary() const { return stage_ == 0; }

 private:
  unsigned limit_;
  int stage_ = 0;         // 0,1 slot bytes; 2 message; 3 sender; 4 recipient
  SpawnCommand cur_;
};

// Splits the report stream (qmail-send's side). A report longer than
// kSpawnMaxReport bytes or a slot >= limit is EPROTO.
class SpawnReportParser {
 public:
  explicit SpawnReportParser(unsigned limit = kSpawnLimit) : limit_(limit) {}
  Status feed(std::string_view bytes, std::vector<SpawnReport>& out);
  bool at_boundary() const { return stage_ == 0; }

 private:
  unsigned limit_;
  int stage_ = 0;         // 0,1 slot bytes; 2 letter and text
  unsigned slot_ = 0;
  std::string body_;
};

// A delivery's output as qmail's spawn keeps it: at most `cap` bytes; when
// more came and `note` is set, the first cap - 34 bytes and kSpawnTooLong
// (qmail's truncreport). NULs are kept: qmail-remote's output is records.
class SpawnOutput {
 public:
  explicit SpawnOutput(size_t cap = kSpawnTruncate, bool note = true)
      : cap_(cap), note_(note) {}
  void append(std::string_view bytes);
  std::string text() const;
  bool overflowed() const { return overflowed_; }

 private:
  size_t cap_;
  bool note_;
  bool overflowed_ = false;
  std::string data_;
};

// ---- the spawn loop ----

// What starting one delivery gave: a running child whose stdout and stderr
// are the write end of `output`, or (pid < 0) an immediate report.
struct SpawnStart {
  pid_t pid = -1;
  Fd output;              // read end of the child's output pipe
  std::string report;     // "Z..." or "D..." (or "K...") when pid < 0

  static SpawnStart now(std::string report) {
    SpawnStart s;
    s.report = std::move(report);
    return s;
  }
};

struct SpawnProgram {
  // Output kept per delivery and whether qmail's truncation note is added.
  size_t output_cap = kSpawnTruncate;
  bool truncation_note = true;
  // Starts the delivery for a checked command (slot free, S/N well formed,
  // recipient has an '@'); `message` is S/N opened read-only, a regular file
  // owned by the queue's owner. Usually calls fork_delivery().
  std::function<SpawnStart(const SpawnCommand& cmd, const Fd& message)> start;
  // The report ("K..."/"Z..."/"D...") for a child that ended with wait
  // status `wstat` after printing `output` (already capped). The report is
  // sent up to its first NUL.
  std::function<std::string(int wstat, std::string_view output)> report;
};

// Runs the spawn with cwd = QMAILHOME/queue/mess: writes the banner, then
// serves commands until fd 0 ends and every child is reported. The queue's
// owner is the owner of queue/mess (qmailq in a system instance, the
// instance's user otherwise). Returns normally at that end; an Error when
// the setup fails or qmail-send breaks the protocol (the program then exits
// 111; children still running finish on their own).
Status run_spawn(const SpawnProgram& program, unsigned limit = kSpawnLimit);

// Forks a delivery child: fd 0 = message, fd 1 and fd 2 = a new pipe, and
// the spawn's signal mask, SIGPIPE disposition and descriptor limit undone;
// then runs `child`, which must exec or _exit. If that setup fails, or
// `child` returns or throws, the child _exits `failure_exit` (the program's
// report function maps it). The parent gets the pid and the pipe's read
// end, or an immediate Z report when the pipe or the fork fails.
SpawnStart fork_delivery(const Fd& message, const std::function<void()>& child,
                         int failure_exit = 111);

// The position of the last '@' in the recipient (commands are checked to
// have one before start runs).
size_t recipient_at(const std::string& recipient);

}  // namespace qng

// rspawn.h: qmail-rspawn's logic: start qmail-remote for one recipient and
// turn its output into a K/Z/D report.
#pragma once

#include <string>
#include <string_view>

#include "spawn.h"

namespace qng::rspawn {

// qmail-rspawn keeps this much of qmail-remote's output: a recipient report
// and a message report, each with up to 5000 bytes of SMTP text.
constexpr size_t kOutputCap = 65536;
// The delivery child exits so when qmail-remote cannot be executed at all
// (missing, not executable, not a program): a temporary failure, so remote
// mail waits in the queue (notqmail issue #244), unlike qmail's bounce.
constexpr int kExitCannotRun = 127;

constexpr const char* kCrashed = "Zqmail-remote crashed.\n";
constexpr const char* kCannotRun = "Zqmail-remote is missing or cannot run. (#4.3.0)\n";
constexpr const char* kRunTemp = "ZUnable to run qmail-remote.\n";
constexpr const char* kRunPerm = "DUnable to run qmail-remote.\n";
constexpr const char* kNoOutput = "Zqmail-remote produced no output.\n";
constexpr const char* kMangled = "Zqmail-remote produced malformed output. (#4.3.0)\n";

// The report for qmail-remote's wait status and output (qmail-rspawn.c's
// rules): the result is the first K/Z/D record, overridden by the first
// record's s (Z) or h (D); the text is the first record's text, plus the
// message record's text when the message result is not better.
std::string report(int wstat, std::string_view output);

struct Config {
  std::string remote;      // program to run
  bool search_path = false;  // $QMAILREMOTE without a slash: execvp
};

// The configuration for the instance at `home`: $QMAILREMOTE if set, else
// home/bin/qmail-remote.
Config configure(const std::string& home);

// Starts `remote host sender recipient` for the command (host = the
// recipient's domain), with fd 0 = message, cwd unchanged (queue/mess).
SpawnStart start(const Config& config, const SpawnCommand& cmd, const Fd& message);

}  // namespace qng::rspawn

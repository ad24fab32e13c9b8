// local.h: qmail-local's logic, apart from main so that tests can call it.
//
// dotqmail.cc holds the pure parts (envelope lines, the .qmail search
// order, NEWSENDER, the environment, instruction lines, the loop scan);
// deliver.cc the four kinds of delivery; local.cc the order of work.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qng::local {

// A .qmail file longer than this is refused (temporarily: the user can
// shorten it). qmail read any size.
constexpr size_t kMaxDotQmail = 1 << 20;
// Forward recipients per .qmail file (each line is at most one).
constexpr size_t kMaxForwards = 100000;

struct Args {
  bool doit = true;  // -N (default) delivers; -n prints the plan
  std::string user, homedir, local, dash, ext, host, sender, defaultdelivery;
};

// How a run (or one step of it) ends. code 0 means "go on"; otherwise the
// exit code, with text as the one-line report ("" adds nothing, as when a
// program already said why it failed).
struct Outcome {
  int code = 0;
  std::string text;
  bool ok() const { return code == 0; }
};

// ---- envelope lines (each ends in LF)

// "Delivered-To: local@host\n", LF inside turned into '_'.
std::string delivered_to_line(std::string_view local, std::string_view host);
// "Return-Path: <sender>\n", the sender quoted as RFC 821 asks, LF -> '_'.
std::string return_path_line(std::string_view sender);

struct EnvelopeLines {
  std::string dt;  // DTLINE
  std::string rp;  // RPLINE
  std::string uf;  // UFLINE
};
EnvelopeLines envelope_lines(const Args& a, time_t now);

// ---- the .qmail search

// ext lowercased, every '.' turned into ':'.
std::string safe_ext(std::string_view ext);

// One file name to try; default_at = where DEFAULT starts in ext when the
// file is a "...default" file.
struct Candidate {
  std::string name;
  std::optional<size_t> default_at;
  bool operator==(const Candidate&) const = default;
};
// .qmail<dash><safeext>, then for each prefix of safeext ending right after
// a '-' (longest first) and the empty prefix, .qmail<dash><prefix>default.
std::vector<Candidate> dotqmail_candidates(std::string_view dash, std::string_view safeext);

// Whether the -owner rules may rewrite this sender ("" and #@[] never).
bool owner_rules_apply(std::string_view sender);
// NEWSENDER once the -owner and -owner-default files were looked for.
std::string new_sender(std::string_view sender, std::string_view local, std::string_view host,
                       bool has_owner, bool has_owner_default);

// ---- the environment of program deliveries

using Env = std::vector<std::pair<std::string, std::string>>;
// EXT2..EXT4: the text after the 1st, 2nd, 3rd '-' of ext ("" if none).
std::string ext_part(std::string_view ext, int n);
// HOST2..HOST4: host cut before its last, 2nd-last, 3rd-last dot.
std::string host_part(std::string_view host, int n);
// Every variable qmail-local sets, in qmail's order; DEFAULT only when
// given.
Env delivery_env(const Args& a, const EnvelopeLines& lines, const std::string& newsender,
                 const std::optional<std::string>& default_part);

// ---- instructions

enum class Kind {
  kBlank,        // empty after stripping: an error as the first line
  kComment,      // #
  kProgram,      // |command
  kMaildir,      // ./dir/ or /dir/
  kMbox,         // ./file or /file
  kForward,      // &address or address
  kForwardOnly,  // +list
  kIgnored,      // any other + line
};
struct Instruction {
  Kind kind;
  std::string arg;  // the command, path or address (cut at a NUL)
  bool operator==(const Instruction&) const = default;
};
// Splits at LF (the last line need not end in one) and strips trailing
// spaces and tabs from each line. Empty text is one blank line.
std::vector<Instruction> parse_instructions(std::string_view text);

// ---- the loop check

// Scans the header (up to the first empty line, or a last line without LF)
// for a line byte-identical to the Delivered-To line, holding no line in
// memory.
class LoopScanner {
 public:
  enum class State { kMore, kLooping, kHeaderEnd };
  explicit LoopScanner(std::string dtline) : dt_(std::move(dtline)) {}
  State feed(std::string_view chunk);

 private:
  std::string dt_;
  size_t pos_ = 0;      // bytes of the current line seen
  bool same_ = true;    // the current line equals dt_ so far
  State state_ = State::kMore;
};

// ---- deliveries (deliver.cc); the message is fd 0, rewound by each

Outcome deliver_maildir(const std::string& dir, const EnvelopeLines& lines);
Outcome deliver_mbox(const std::string& path, const EnvelopeLines& lines);
// stop is set when the program exits 99.
Outcome deliver_program(const std::string& command, bool& stop);
// One qmail-queue run for every recipient; qp gets its pid.
Outcome forward(const std::vector<std::string>& recipients, const EnvelopeLines& lines,
                const std::string& newsender, pid_t& qp);

// Outcome for a program's exit (qmail-command): 0 and 99 go on, 100 and
// 64, 65, 70, 76, 77, 78, 112 are permanent, the rest temporary.
Outcome program_outcome(bool crashed, int code, bool& stop);

// ---- the whole run (local.cc): prints the plan (-n) and "did" lines on
// fd 1; returns the failure for main to print on fd 2.
Outcome run(const Args& a);

}  // namespace qng::local

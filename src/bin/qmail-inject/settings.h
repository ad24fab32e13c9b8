// settings.h: what qmail-inject's arguments, environment and control files
// say, gathered once before the message is read.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "control.h"
#include "result.h"
#include "rewrite.h"

namespace qng::inject {

// Caps: a header is held in memory to be rewritten; the body never is.
constexpr size_t kMaxHeader = 1 << 20;        // bytes of header read
constexpr size_t kMaxAddresses = 100000;      // addresses in the header and arguments
constexpr size_t kMaxArgument = 1 << 16;      // bytes of one -f or recipient argument

enum class RecipientMode {
  kDefault,  // -A: the arguments if there are any, else the header
  kArgs,     // -a: the arguments only
  kHeader,   // -h: the header only
  kBoth,     // -H: both
};

struct Options {
  RecipientMode mode = RecipientMode::kDefault;
  bool queue = true;                  // -n: print instead
  std::optional<std::string> sender;  // -f
  std::vector<std::string> recipients;
  bool help = false;                  // --help
};

// qmail-inject [-nNaAhH] [-fsender] [recip ...]; getopt style: letters may
// be grouped, -f takes the rest of its word or the next one, "--" ends the
// options. A permanent error (usage) on anything else.
Result<Options> parse_args(const std::vector<std::string>& args);

extern const char* const kUsage;

// The environment as a lookup (getenv in the program, a table in tests).
using EnvFn = std::function<const char*(const char*)>;

struct Settings {
  RewriteRules rules;
  std::string idhost;

  std::optional<std::string> mail_host;    // QMAILHOST, MAILHOST
  std::string mail_user;                   // QMAILUSER, MAILUSER, USER, LOGNAME
  std::optional<std::string> sender_host;  // QMAILSHOST, else mail_host
  std::string sender_user;                 // QMAILSUSER, else mail_user
  std::optional<std::string> full_name;    // QMAILNAME, MAILNAME, NAME

  // QMAILINJECT letters.
  bool name_comment = false;     // c: From: box@host (Full Name)
  bool drop_return_path = false; // s: ignore an incoming Return-Path
  bool drop_from = false;        // f: delete an incoming From
  bool drop_message_id = false;  // i: delete an incoming Message-ID
  bool verp_recipient = false;   // r: sender box-@host-@[]
  bool verp_message = false;     // m: sender box-TIME.PID@host

  // QMAILMFTFILE: the mailing lists that get a Mail-Followup-To.
  std::optional<std::vector<std::string>> mft;

  time_t start = 0;  // the time of Date and Message-ID
  pid_t pid = 0;     // in Message-ID and per-message VERP
};

// The environment's part of the settings (no files read).
Settings settings_from_env(const EnvFn& env);

// The control files' part: defaulthost, defaultdomain, plusdomain and
// idhost (each "me", else its own name, as qmail), with QMAILDEFAULTHOST,
// QMAILDEFAULTDOMAIN, QMAILPLUSDOMAIN and QMAILIDHOST overriding them.
Status read_controls(const Control& control, const EnvFn& env, Settings& s);

// QMAILMFTFILE, read before qmail-inject changes directory: one address a
// line, empty and '#' lines skipped; a missing file means no list.
Status read_mft_file(const EnvFn& env, Settings& s);

}  // namespace qng::inject

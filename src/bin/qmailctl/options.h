// options.h: qmailctl's command line, parsed apart from any action.
//
//   qmailctl [-d DIR] COMMAND [ARGS]
//   qmailctl init DIR [--me NAME] [--smtp H:P] [--pop3 H:P] [--qmtp H:P] [--qmqp H:P]
//                     [--submission H:P] [--smtps H:P]
//   qmailctl init --system [DIR]
//   qmailctl [-d DIR] passwd ADDRESS
//   qmailctl [-d DIR] dkim-keygen DOMAIN [SELECTOR] [--rsa|--ed25519]
//   qmailctl [-d DIR] check
//   qmailctl [-d DIR] adddomain DOMAIN | deldomain DOMAIN [--force] [--keep-mail]
//   qmailctl [-d DIR] adduser ADDRESS [--password-stdin] | deluser ADDRESS [--keep-mail]
//   qmailctl [-d DIR] addalias ADDRESS TARGET... | listusers [DOMAIN]
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace qng::ctl {

// A listener address HOST:PORT ("127.0.0.1:2525", "[::1]:2525").
struct HostPort {
  std::string host;   // without brackets
  unsigned port = 0;  // 1..65535
  std::string text() const;  // back to HOST:PORT, bracketing IPv6
};

// HOST:PORT, or a permanent Error saying what is wrong with it.
Result<HostPort> parse_host_port(std::string_view s);

// Whether NAME can go into control/me: a host name or an address literal,
// no spaces, no control characters, no '/', '@' or ':' outside brackets.
bool valid_me(std::string_view name);

enum class Command {
  kHelp, kInit, kStart, kStop, kRestart, kStat, kQueue, kDoqueue, kReload, kCdb, kPasswd,
  kDkimKeygen, kCheck, kAddDomain, kDelDomain, kAddUser, kDelUser, kAddAlias, kListUsers,
};

// One listener named on init's command line: "smtp" and its address.
struct Listener {
  std::string service;  // smtp pop3 qmtp qmqp submission smtps
  HostPort addr;
};

struct Options {
  Command command = Command::kHelp;
  std::optional<std::string> dir;  // -d DIR, or init's DIR
  bool system = false;             // init --system
  std::optional<std::string> me;   // init --me
  std::vector<Listener> listeners; // init --smtp ... in command line order
  std::vector<std::string> args;   // the rest (passwd ADDRESS; dkim-keygen DOMAIN [SELECTOR])
  bool ed25519 = false;            // dkim-keygen --ed25519 (default --rsa)
  bool force = false;              // deldomain --force
  bool keep_mail = false;          // deldomain, deluser --keep-mail
  bool password_stdin = false;     // adduser --password-stdin
};

// Parses argv; a usage error is a permanent Error whose context is the
// message to print before the usage text.
Result<Options> parse_args(const std::vector<std::string>& argv);

// The usage text printed for --help (stdout) and after usage errors (stderr).
extern const char kUsage[];

}  // namespace qng::ctl

// manage.h: virtual domains and users (qmailctl adddomain, deldomain,
// adduser, deluser, addalias, listusers), and the pure text edits behind
// them, kept apart so that unit tests can call them.
//
// A virtual domain D is the line `D:D` in control/virtualdomains and D in
// control/rcpthosts; its user local@D is the local part `D-local` for
// qmail-send, assigned in users/assign by `=D-local:USER:UID:GID:DIR/home/D/local:::`.
// A user of control/me (or any control/locals domain) is `=local:...:DIR/home/local:::`.
// An alias is a .qmail file of the alias user (alias/.qmail-D-local, dots
// written as ':'), one forwarding line per target.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace qng::ctl {

// local@domain, lowercased and checked: the local part of letters, digits
// and . _ + - (no leading or trailing '.', no ".."), the domain a host name.
struct Address {
  std::string local;
  std::string domain;
  std::string text() const { return local + "@" + domain; }
};
Result<Address> parse_address(std::string_view s);
bool valid_local_part(std::string_view s);
bool valid_domain(std::string_view s);

// The prepend control/virtualdomains gives the exact key `domain` (the last
// such line wins, as qmail-send's constmap), or nullopt. Lines are raw
// file lines; comments and blank lines are skipped.
std::optional<std::string> vdom_prefix(const std::vector<std::string>& lines,
                                       std::string_view domain);

// The raw lines of a text (without their LF; a final LF adds no line).
std::vector<std::string> split_lines(std::string_view text);
std::string join_lines(const std::vector<std::string>& lines);

// Whether a list file's line names `value` (case-insensitive, trailing
// spaces ignored).
bool line_is(std::string_view line, std::string_view value);
// The key of a virtualdomains line (before the first ':'), lowercased, or
// nullopt for a comment, a blank line or a line without a colon.
std::optional<std::string> vdom_key(std::string_view line);

// users/assign edits. The local part of an `=` line (lowercased), or
// nullopt for other lines.
std::optional<std::string> assign_exact_local(std::string_view line);
// Inserts `line` before the "." terminator (adding the terminator when the
// text has none).
std::string assign_insert(std::string_view text, std::string_view line);
// Removes the `=local:` lines and the `+local-:` lines; *removed counts them.
std::string assign_remove(std::string_view text, std::string_view local, size_t* removed);
// The assign line of a virtual user.
std::string assign_line(std::string_view local, std::string_view user, uid_t uid, gid_t gid,
                        std::string_view home);

// The alias user's file for a qmail-send local part: ".qmail-" + local,
// each '.' written as ':' (as qmail-local looks it up).
std::string alias_file_name(std::string_view local);
// Its text: one `&target` line per target.
std::string alias_file_text(const std::vector<std::string>& targets);
// A forwarding target: an address (local@domain, or a bare local part),
// with no spaces, no control characters, not starting with | / . # & +.
bool valid_target(std::string_view s);

// The commands (exit codes: 0 done, 100 refused, 111 temporary failure).
struct ManageOptions {
  bool force = false;            // deldomain --force
  bool keep_mail = false;        // deluser/deldomain --keep-mail
  bool password_stdin = false;   // adduser --password-stdin
};
int run_adddomain(const std::string& dir, const std::string& domain);
int run_deldomain(const std::string& dir, const std::string& domain, const ManageOptions& o);
int run_adduser(const std::string& dir, const std::string& address, const ManageOptions& o);
int run_deluser(const std::string& dir, const std::string& address, const ManageOptions& o);
int run_addalias(const std::string& dir, const std::string& address,
                 const std::vector<std::string>& targets);
int run_listusers(const std::string& dir, const std::string& domain);

}  // namespace qng::ctl

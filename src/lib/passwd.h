// passwd.h: the instance's password store, users/passwd, for POP3 and SMTP
// AUTH (read through qmail-checkpassword).
//
// One line per user, `address:hash`: the address lowercased (demo@localhost),
// the hash crypt(3)'s (libxcrypt): new passwords get yescrypt ("$y$"); any
// other hash crypt(3) verifies works too (sha512-crypt "$6$" from
// `openssl passwd -6`). Empty lines and lines starting with '#' are kept but
// mean nothing. A hash crypt(3) cannot use ("*", "!") locks the user out.
//
// Who may read it: whoever runs qmail-checkpassword. An unprivileged
// instance: its user, mode 0640. The system instance: owner root, group
// nofiles, mode 0640, so that qmail-smtpd (qmaild, group nofiles) can check
// SMTP AUTH and qmail-popup's checkpassword (root) reads it anyway; nobody
// but root can change it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "result.h"

namespace qng {

// Longest password line read_password_line accepts.
constexpr size_t kMaxPasswordLine = 1024;
// Longest password crypt(3) takes (CRYPT_MAX_PASSPHRASE_SIZE - 1).
constexpr size_t kMaxPassword = 511;
// Longest line of users/passwd, and largest file.
constexpr size_t kMaxPasswdLine = 4096;
constexpr size_t kMaxPasswdBytes = 64u << 20;

// home + "/users/passwd".
std::string passwd_path(const std::string& home);

// The address a login names: lowercased; a bare local part (no '@') gets
// "@" + control/me. Refuses (EINVAL, permanent) an empty local part, an
// address longer than kMaxAddress, and bytes the store cannot hold (':',
// spaces, control characters).
Result<std::string> login_address(const std::string& home, std::string_view login);

// A fresh yescrypt hash of password with a random salt (getrandom).
Result<std::string> hash_password(std::string_view password);

// Whether password matches hash; a hash crypt(3) cannot use is "no".
// Compares in constant time.
bool verify_password(std::string_view password, std::string_view hash);

// Sets the password of address (see login_address), rewriting users/passwd
// atomically (write_file_atomic, mode 0640) under a lock on users/. Run as
// root, the file keeps the owner and group it had; a new one gets the owner
// of users/ and, when that is root (the system instance), group nofiles.
// Refuses an empty password, one longer than kMaxPassword, or one with a
// NUL or LF.
Status set_password(const std::string& home, std::string_view address, std::string_view password);

// Whether address (see login_address) has this password. An unknown
// address is false after the same work as a real check, so timing does not
// tell whether the user exists. A missing users/passwd knows no one. Errors:
// unreadable or malformed users/passwd (line too long, file too big).
Result<bool> check_password(const std::string& home, std::string_view address,
                            std::string_view password);

// Reads one line from fd (qmailctl passwd's standard input), byte by byte so
// nothing after it is consumed: at most kMaxPasswordLine bytes, returned
// without its LF or CRLF. End of input ends the line too; no bytes at all
// is an error (EINVAL), as is a NUL or a longer line (E2BIG).
Result<std::string> read_password_line(int fd);

}  // namespace qng

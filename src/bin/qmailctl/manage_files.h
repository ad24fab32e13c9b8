// manage_files.h: the file work behind qmailctl's user and domain commands:
// who owns virtual mailboxes, replacing a file in place, listing a
// directory, removing a password.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "result.h"

namespace qng::ctl {

// Who virtual mailboxes belong to. An unprivileged instance: its owner (the
// owner of DIR). The system instance: the one virtual-mail user `vmail`
// (group vmail), made with useradd --system when missing and `create`.
struct MailOwner {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
};
constexpr const char* kVmailUser = "vmail";
Result<MailOwner> mail_owner(const std::string& dir, bool create);

// chown path to owner when we run as root (otherwise it is ours already).
Status give(const std::string& path, const MailOwner& owner);

// Replaces path with text (write_file_atomic), keeping its mode (0644 for a
// new file) and, run as root, its owner and group (a new file gets those of
// its directory).
Status replace_file(const std::string& path, const std::string& text);

// The names in a directory, without . and .. (a missing one is empty).
Result<std::vector<std::string>> list_dir(const std::string& path);

// Removes address's lines from users/passwd (under passwd's lock on users/).
Status remove_password(const std::string& dir, const std::string& address);

}  // namespace qng::ctl

// system.h: qmail's users and groups for a system instance.
#pragma once

#include <string>

#include "layout.h"
#include "result.h"

namespace qng::ctl {

// The invoking user's ids for every role (an unprivileged instance).
Ids own_ids();

// Creates qmail's groups (qmail, nofiles) and users (alias qmaild qmaill
// qmailp qmailq qmailr qmails) when missing, with useradd/groupadd
// --system; alias's home is DIR/alias, the others' DIR. Returns their ids.
Result<Ids> system_ids(const std::string& dir);

// An existing user's uid and an existing group's gid (no creation): a
// missing one is a permanent error naming it.
Result<uid_t> lookup_uid(const char* name);
Result<gid_t> lookup_gid(const char* name);

}  // namespace qng::ctl

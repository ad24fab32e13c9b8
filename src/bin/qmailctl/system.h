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

}  // namespace qng::ctl

// instance.h: where the instance (QMAILHOME) is.
//
// An instance keeps its programs in DIR/bin (copies, so that a program's own
// location names its instance). Setuid and root programs never trust the
// environment: they take the instance from /proc/self/exe (DIR/bin/prog ->
// DIR). Other programs honour $QMAILHOME first.
#pragma once

#include <string>

#include "result.h"

namespace qng {

constexpr const char* kSystemHome = "/var/qmail";

// The directory holding the running binary (from /proc/self/exe).
Result<std::string> exe_dir();
// DIR from the running binary's path DIR/bin/NAME.
Result<std::string> home_from_exe();
// $QMAILHOME if set and absolute, else home_from_exe() when the binary sits
// in an instance (DIR/control exists), else /var/qmail.
std::string home_trusting_env();

// True when this process runs an unprivileged instance: it is not root, so
// it changes no uid and delivers only as itself.
bool unprivileged();

}  // namespace qng

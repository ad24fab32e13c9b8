// say.h: qmailctl's output. Results go to stdout; complaints to stderr as
// "qmailctl: fatal: ..." or "qmailctl: warning: ...".
#pragma once

#include <string_view>

#include "result.h"

namespace qng::ctl {

void say(std::string_view line);    // stdout, a newline appended
void warn(std::string_view line);   // stderr: "qmailctl: warning: LINE"
// stderr "qmailctl: fatal: LINE"; returns `code` for `return fatal(...)`.
int fatal(int code, std::string_view line);
// The same for an Error: 100 when permanent, 111 otherwise.
int fatal(const Error& e);

}  // namespace qng::ctl

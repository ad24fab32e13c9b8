// maildir.h: Maildir names and delivery (cr.yp.to/proto/maildir.html).
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "result.h"

namespace qng {

// A unique name "time.M<usec>P<pid>Q<count>R<random hex>.host"; the host
// has '/' written as "\057" and ':' as "\072".
std::string maildir_unique_name(std::string_view hostname);

// The host name for unique names (gethostname, escaped as above).
std::string maildir_hostname();

// mkdir dir, dir/tmp, dir/new, dir/cur with mode 0700 (maildirmake).
// An existing directory is an error (EEXIST), as maildirmake.
Status maildir_make(const std::string& dir);

// Delivers into maildir `dir`: create tmp/NAME O_EXCL (retrying a clash
// with a new name), write `prefix` then the whole of `msg_fd` from offset 0,
// fsync, close, link to new/NAME, unlink tmp/NAME, fsync new/. Returns the
// name (without "new/"). Every failure is reported with errno; the caller
// decides (qmail-local treats all as temporary). A 24-hour timer must be the
// caller's (alarm), as qmail-local sets it.
Result<std::string> maildir_deliver(const std::string& dir, int msg_fd,
                                    std::string_view prefix);

}  // namespace qng

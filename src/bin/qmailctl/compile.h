// compile.h: the compiled files of an instance, rebuilt by `qmailctl cdb`
// (and by init): users/cdb, control/morercpthosts.cdb, control/tcp.*.cdb,
// users/recipients.cdb.
#pragma once

#include <string>

#include "result.h"

namespace qng::ctl {

// users/assign -> users/cdb (qmail-newu): atomic, untouched on a format error.
Status compile_users(const std::string& dir);
// control/morercpthosts -> control/morercpthosts.cdb (qmail-newmrh), when
// control/morercpthosts exists; nothing otherwise.
Status compile_morercpthosts(const std::string& dir);
// control/tcp.SERVICE -> control/tcp.SERVICE.cdb (tcprules, through
// control/tcp.SERVICE.tmp), for each listener service whose source exists.
Status compile_tcp_rules(const std::string& dir, const std::string& service);
// users/recipients.cdb from users/cdb, the homes' .qmail files, locals and
// virtualdomains (src/lib/recipients.h).
Status compile_recipients(const std::string& dir);

// Every compiled file, in dependency order (users/cdb before the recipients
// database). A failing step is reported on stderr and the others still run.
// 0, or 111 when any step failed temporarily, else 100.
int compile_all(const std::string& dir);

}  // namespace qng::ctl

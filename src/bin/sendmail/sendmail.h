// sendmail.h: the sendmail wrapper's decision: which qmail program to run,
// with what arguments and environment (qmail's sendmail.c).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qng::sendmail {

struct Plan {
  enum What {
    kInject,      // HOME/bin/qmail-inject args...
    kQread,       // -bp, or run as mailq: HOME/bin/qmail-qread
    kSmtpd,       // -bs: HOME/bin/qmail-smtpd
    kNewaliases,  // run as newaliases: refused
    kUsage,       // bad arguments
    kHelp,        // --help
  } what = kUsage;
  std::vector<std::string> args;  // program arguments after argv[0]
  // Environment changes in order: a value sets the variable, none unsets it.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
};

extern const char* const kUsage;

// `progname` is the base name sendmail was run as (sendmail, mailq,
// newaliases); `args` the arguments after it; `proto_set` whether $PROTO is
// set (then -bs leaves the TCP variables alone, as tcp-env does).
Plan plan(std::string_view progname, const std::vector<std::string>& args, bool proto_set);

}  // namespace qng::sendmail

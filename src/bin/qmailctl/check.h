// check.h: qmailctl check: read every configuration file of an instance
// and say, in plain words, what is wrong with it. The text checkers are
// pure functions so that unit tests can call them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qng::ctl {

// One problem: "FILE:LINE: text" (line 0: "FILE: text"); a warning says
// "FILE:LINE: warning: text".
struct Finding {
  std::string file;
  size_t line = 0;
  bool warning = false;
  std::string text;
};
using Findings = std::vector<Finding>;

std::string format_finding(const Finding& f);

// control/locals, rcpthosts, morercpthosts, percenthack: one domain a line
// (`.suffix` too when suffixes; an address literal [1.2.3.4] too).
void check_domain_list(const std::string& file, std::string_view text, bool suffixes,
                       Findings& out);
// control/virtualdomains: `key:prepend`, key = user@domain, domain,
// .suffix or empty.
void check_virtualdomains(const std::string& file, std::string_view text, Findings& out);
// control/smtproutes: `key:relay[:port]`.
void check_smtproutes(const std::string& file, std::string_view text, Findings& out);
// control/tcp.SERVICE: tcprules lines (src/lib/tcprules.h's parser).
void check_tcprules(const std::string& file, std::string_view text, Findings& out);
// A numeric control file: its first line must be digits.
void check_number(const std::string& file, std::string_view text, Findings& out);
// A .qmail file's text. executable: the file has its owner's x bit
// (forward-only).
void check_dot_qmail(const std::string& file, std::string_view text, bool executable,
                     Findings& out);
// Whether rcpthosts' domain (or .suffix) reaches a delivery: control/locals,
// a virtualdomains key or an smtproutes key (exact, a suffix, or the empty
// default). Lines as Control::lines gives them.
bool delivered(std::string_view domain, const std::vector<std::string>& locals,
               const std::vector<std::string>& virtualdomains,
               const std::vector<std::string>& smtproutes);

// Whether a control/ name is one some program reads.
bool known_control_name(std::string_view name);

// The whole check: prints the findings (or "OK") on stdout; 0 no errors,
// 1 errors, 111 the check could not run.
int run_check(const std::string& dir);

}  // namespace qng::ctl

// tcprules.h: ucspi-tcp's connection rules: compiling them (tcprules) and
// following them (tcpserver), byte-compatible with ucspi-tcp 0.88's cdb.
//
// Source: one rule a line, `ADDRESS:allow|deny[,VAR="value"]...`; `#` starts
// a comment line; a line without a colon is ignored. The quote after `=` may
// be any character, repeated to end the value. `,!VAR` unsets VAR (as the
// IPv6-capable forks of ucspi-tcp). ADDRESS is an IPv4 address or prefix
// ending with a dot (`1.2.3.4`, `1.2.3.`), a last-octet range (`1.2.3.4-7`,
// expanded to one key per address), an IPv6 address or prefix ending with a
// colon (`::1`, `2001:db8:`, optionally in brackets), `=host`, `=.domain`,
// `=`, `info@ip`, or empty (the default). Full IPv6 addresses are stored in
// the compressed lower-case form tcpserver puts into TCPREMOTEIP.
//
// cdb record: key = the address text; data = `D\0` for deny (nothing for
// allow), then one `+VAR=value\0` per variable (`-VAR\0` to unset).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cdb.h"
#include "result.h"

namespace qng {

constexpr size_t kRuleLineMax = 65536;  // longer source lines are errors

struct RuleRecord {
  std::string key;
  std::string data;
  bool operator==(const RuleRecord&) const = default;
};

// The records of one source line (none for comments, blank lines and lines
// without a colon). A syntax error is a permanent Error whose context is
// "unable to parse this line: LINE".
Result<std::vector<RuleRecord>> parse_rule_line(std::string_view line);

// Every record of a whole source text, in order.
Result<std::vector<RuleRecord>> compile_rules(std::string_view text);

// Writes rules to `tmp`, then replaces `cdb` with it: tcprules' way of
// changing rules under a running tcpserver. finish() fsyncs tmp, renames it
// over cdb and fsyncs the directory. An unfinished writer leaves cdb alone.
// (CdbWriter writes its own PATH.tmp: tmp itself is completed through
// TMP.tmp, renamed to TMP, then to cdb.)
class RulesWriter {
 public:
  // Errors: "unable to create TMP".
  static Result<RulesWriter> create(const std::string& cdb, const std::string& tmp);
  // Errors: "unable to write to TMP".
  Status add(const RuleRecord& record);
  // Errors: "unable to write to TMP", "unable to move TMP to CDB".
  Status finish();

 private:
  RulesWriter(CdbWriter w, std::string cdb, std::string tmp)
      : writer_(std::move(w)), cdb_(std::move(cdb)), tmp_(std::move(tmp)) {}
  CdbWriter writer_;
  std::string cdb_;
  std::string tmp_;
};

// Compiles a whole source text into cdb through tmp (qmailctl cdb). A
// syntax error leaves cdb alone.
Status compile_rules_file(std::string_view text, const std::string& cdb,
                          const std::string& tmp);

// What a matching rule says.
struct RuleAction {
  bool deny = false;
  // In order: (VAR, value) to set, (VAR, nullopt) to unset.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  bool operator==(const RuleAction&) const = default;
};

RuleAction decode_rule_data(std::string_view data);

// The keys tcpserver tries, first match wins (ucspi-tcp's rules.c order):
// info@ip, info@=host, ip, =host, shorter prefixes of ip ending with `.`
// or `:`, =suffixes of host starting with `.`, `=`, and the empty key.
// host and info are left out when empty (unknown).
std::vector<std::string> rule_keys(std::string_view ip, std::string_view host,
                                   std::string_view info);

// The first rule for this client in the database, or nullopt when none
// applies (then the connection is allowed with no changes).
Result<std::optional<RuleAction>> find_rule(const CdbReader& db, std::string_view ip,
                                            std::string_view host, std::string_view info);

}  // namespace qng

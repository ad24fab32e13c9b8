// recipients.h: the recipients database users/recipients.cdb: every address
// of an instance that local delivery would accept, so that qmail-smtpd can
// refuse an unknown local recipient at RCPT instead of bouncing it later
// (backscatter). Built by `qmailctl cdb`; read by qmail-smtpd.
//
// What "would accept" means: qmail-send's routing (control/locals first,
// then control/virtualdomains: whole address, domain, each .suffix, the
// catch-all; an empty prepend is an exception), then qmail-lspawn's choice
// of the controlling user (users/cdb: exact key, else the longest wildcard
// prefix; without a match qmail-getpw: the longest account name ending at a
// '-', else the alias user), then qmail-local's search for a .qmail file
// (.qmail<dash><ext>, .qmail<dash><prefix>-default ..., .qmail<dash>default;
// an empty dash always delivers). Where the builder cannot know (an
// unreadable home, a missing alias account) it errs on the side of accepting.
//
// Records (every key lowercase; the first byte of the data is its type):
//   "@" DOMKEY          -> "DL" local domain, "DV" virtual domain,
//                          "DX" exception (not ours)
//   LOCAL "@" DOMKEY    -> "E+" deliverable, "E-" not, "ER" not ours
//   PREFIX "*@" DOMKEY  -> "W+" every local part starting with PREFIX is
//                          deliverable, "W-" none is (unless a longer
//                          record says otherwise)
// DOMKEY is a domain, a ".suffix" or "" (virtualdomains' catch-all). A key
// may carry several records (a literal local part "a*" and the prefix "a");
// readers pick the record of the type they look for.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cdb.h"
#include "result.h"

namespace qng {

constexpr const char* kRecipientsDb = "users/recipients.cdb";

enum class RcptVerdict {
  kNotOurs,      // not a local or virtual domain: no check applies
  kDeliverable,  // local delivery would accept it
  kUnknown,      // ours, and no such mailbox
};

class RecipientsDb {
 public:
  // Opens HOME/users/recipients.cdb (ENOENT reported as such) and reads
  // control/envnoathost (default me, else "envnoathost") and
  // control/percenthack, which qmail-send applies before routing.
  static Result<RecipientsDb> open(const std::string& home);
  static RecipientsDb from(CdbReader cdb, std::string envnoathost,
                           std::vector<std::string> percenthack);

  // The verdict for an envelope recipient as qmail-send will see it.
  Result<RcptVerdict> check(std::string_view address) const;

 private:
  RecipientsDb(CdbReader cdb, std::string envnoathost, std::vector<std::string> percenthack)
      : cdb_(std::move(cdb)),
        envnoathost_(std::move(envnoathost)),
        percenthack_(std::move(percenthack)) {}
  // The data of the record of `type` under key, if any.
  Result<std::optional<std::string>> record(const std::string& key, char type) const;

  CdbReader cdb_;
  std::string envnoathost_;
  std::vector<std::string> percenthack_;
};

// Computes every deliverable address of the instance at `home` and writes
// HOME/users/recipients.cdb atomically (tmp, fsync, rename, fsync dir).
// Called by `qmailctl cdb` after users/cdb is rebuilt.
Status build_recipients_db(const std::string& home);

// The builder's parts, for tests and tools.
namespace recipients {

// An account qmail-getpw may find (from the passwd database).
struct Account {
  std::string name;
  uid_t uid = 0;
  std::string home;
};

// What the builder reads besides the instance's files.
struct Sources {
  std::string home;           // the instance
  bool own_instance = false;  // unprivileged instance run by `uid`
  uid_t uid = 0;
  std::vector<Account> accounts;  // passwd, for qmail-getpw
};

// The real sources: the instance owner decides the mode (a root-owned
// instance is a system instance), passwd read with getpwent(3).
Sources sources_for(const std::string& home);

// Deliverable local parts (lowercase), as qmail-lspawn and qmail-local
// decide: an exact entry, else the longest wildcard prefix, decides.
struct LocalTable {
  std::map<std::string, bool> exact;
  std::map<std::string, bool> wildcard;
  bool deliverable(std::string_view local) const;
};

Result<LocalTable> local_table(const Sources& sources);

// The database records: (key, type) -> value, e.g. ("joe@example.com", 'E')
// -> '+'; written as key -> type value.
using Records = std::map<std::pair<std::string, char>, char>;

// The records for a table and the routing controls (control/locals lines,
// control/virtualdomains lines).
Records db_records(const LocalTable& table, const std::vector<std::string>& locals,
                   const std::vector<std::string>& virtualdomains);

// Builds the database from explicit sources.
Status build(const Sources& sources);

}  // namespace recipients
}  // namespace qng

// layout.h: what an instance contains, as tables that init follows and
// that the other commands read (listener files, pid files).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace qng::ctl {

// qmail's accounts (QMAIL-INTERFACES.md section 0).
enum class Who { kRoot, kAlias, kQmaild, kQmaill, kQmailp, kQmailq, kQmailr, kQmails };
enum class Group { kQmail, kNofiles };

// The uids and gids an instance's files belong to. For an unprivileged
// instance every one of them is the invoking user's.
struct Ids {
  uid_t root = 0, alias = 0, qmaild = 0, qmaill = 0, qmailp = 0, qmailq = 0, qmailr = 0,
        qmails = 0;
  gid_t qmail = 0, nofiles = 0;
  uid_t uid(Who w) const;
  gid_t gid(Group g) const;
};

enum class Kind { kDir, kEmpty, kZeros1024, kFifo };

// One path of the layout, relative to the instance directory ("" = DIR).
struct Node {
  std::string path;
  Kind kind;
  Who owner;
  Group group;
  mode_t mode;
};

// Every directory and special file init makes, parents first: qmail's
// hier.c for the queue, plus the instance's own directories.
std::vector<Node> layout_nodes();

// config-fast's derivations from control/me.
// defaultdomain: "mail.example.com" -> "example.com" (first label dropped
// when at least three labels); plusdomain: the last two labels when at least
// three. Both are the name itself otherwise.
std::string default_domain_of(std::string_view me);
std::string plus_domain_of(std::string_view me);

// A listening service: its name in stat, its file of addresses, its rules,
// and how tcpserver runs it (listener.cc).
struct Service {
  const char* name;      // smtp
  const char* program;   // qmail-smtpd: the name stat and start print
  const char* exe;       // qmail-smtpd: what tcpserver runs, in DIR/bin
  const char* listen;    // control/listen.smtp: one line HOST:PORT
  const char* rules;     // control/tcp.smtp: tcprules source (+ ".cdb")
  const char* default_rules;  // what init writes there
  const char* pid_file;  // supervise/smtp.pid: tcpserver's pid
  const char* log_dir;   // log/smtp: tcpserver -v's lines, via qmail-logger
  bool as_root;          // system instance: tcpserver stays root (qmail-popup
                         // needs it to run checkpassword); else qmaild/nofiles
  const char* too_many;  // tcpserver -M: said to a client over -C ("": nothing)
  bool on_demand;        // init writes the rules only when the listener is named
};
extern const Service kServices[6];

// qmail-send's pid file and qmailctl's own log, relative to DIR.
constexpr const char* kSendPidFile = "supervise/qmail-send.pid";
constexpr const char* kCtlLog = "log/qmailctl.log";
constexpr const char* kSendLogDir = "log/qmail-send";
constexpr const char* kSendMutex = "queue/lock/sendmutex";

}  // namespace qng::ctl

namespace qng::ctl {

// An absolute spelling of path. With must_exist, every symlink resolved
// (realpath); otherwise only the parent must exist and is resolved.
Result<std::string> absolute_path(const std::string& path, bool must_exist);

}  // namespace qng::ctl

// listener.h: the listeners: one tcpserver per control/listen.SERVICE,
// running qmail-smtpd, the POP3 chain, qmail-qmtpd or qmail-qmqpd.
//
//   tcpserver -1 -v -c LIMIT -C PERIP [-M TEXT] -l ME -x DIR/control/tcp.SERVICE.cdb
//             [-u QMAILD -g NOFILES] -- HOST PORT PROGRAM...
//
// detached in a session of its own, pid in DIR/supervise/SERVICE.pid,
// descriptor 2 piped into `qmail-logger DIR/log/SERVICE` (run as qmaill in
// the system instance). LIMIT is control/concurrencyincoming (default 40,
// qmail's tcpserver default), PERIP control/concurrencyperip (default 10; 0
// means no per-address limit); both per listener.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "daemon.h"
#include "layout.h"
#include "options.h"
#include "result.h"

namespace qng::ctl {

constexpr unsigned long kDefaultConcurrencyIncoming = 40;
constexpr unsigned long kDefaultConcurrencyPerIp = 10;
constexpr unsigned long kMaxConcurrency = 1000000;  // tcpserver's own cap

// How the listeners of an instance run (the same for each).
struct ListenerSettings {
  std::string me;              // control/me: tcpserver -l
  unsigned long limit = kDefaultConcurrencyIncoming;
  unsigned long per_ip = kDefaultConcurrencyPerIp;
  std::optional<Creds> daemon;  // system instance: qmaild/nofiles (-u -g)
  std::optional<Creds> logger;  // system instance: qmaill/nofiles
};

// One configured listener.
struct ListenerPlan {
  const Service* service;
  HostPort addr;
};

// The listener addresses in control/listen.*, in kServices order. A file
// that is not one HOST:PORT line is a permanent error naming it.
Result<std::vector<ListenerPlan>> configured_listeners(const std::string& dir);

// control/me, control/concurrencyincoming, control/concurrencyperip, and in
// the system instance the ids of qmaild, qmaill and nofiles.
Result<ListenerSettings> listener_settings(const std::string& dir);

// tcpserver's command line (see above).
std::vector<std::string> tcpserver_argv(const std::string& dir, const Service& s,
                                        const HostPort& addr, const ListenerSettings& st);
// What tcpserver runs for the service.
std::vector<std::string> service_program(const std::string& dir, const Service& s,
                                         const std::string& me);

// The address to connect to when checking that a listener accepts: the
// listening address, with a wildcard (0, 0.0.0.0, ::) replaced by loopback.
std::string probe_host(const std::string& host);

// Makes control/tcp.SERVICE.cdb when it is missing and the source exists;
// an error when neither exists (tcpserver -x would drop every connection).
Status ensure_rules(const std::string& dir, const Service& s);

// tcpserver, qmail-logger and the service's programs are in DIR/bin and
// executable; else a permanent error naming the first one missing.
Status check_programs(const std::string& dir, const Service& s);

// tcpserver's pid when the pid file names a live tcpserver.
std::optional<pid_t> listener_running(const std::string& dir, const Service& s);

// Starts one listener and returns once it accepts connections; a failure
// (tcpserver exits, or no connection within the wait) is reported with the
// service, the reason and the log file, and leaves nothing running.
// Exit code: 0 or 111. *started tells whether this call started it.
int start_listener(const std::string& dir, const ListenerPlan& plan,
                   const ListenerSettings& st, bool* started);

// TERM to tcpserver and wait until it has gone; the connections it is
// serving go on to their end. 0 or 111.
int stop_listener(const std::string& dir, const Service& s, bool quiet = false);

// stat's line: "qmail-smtpd: up (pid N) S seconds" or "qmail-smtpd: down".
std::string listener_status(const std::string& dir, const Service& s);

}  // namespace qng::ctl

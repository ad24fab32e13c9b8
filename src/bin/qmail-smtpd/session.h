// session.h: qmail-smtpd's configuration (environment and control files,
// read once at the start) and the state of one SMTP session.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conn.h"
#include "relaypolicy.h"
#include "recipients.h"
#include "result.h"

namespace qng::smtpd {

class TlsTransport;

// Caps that are not control files.
constexpr size_t kMaxCommand = 1000;       // bytes of a command line, CRLF not counted
constexpr size_t kMaxAuthLine = 12288;     // RFC 4954: AUTH lines may be this long
constexpr size_t kMaxPath = 900;           // qmail's addrparse limit
constexpr size_t kMaxRcptHard = 10000;     // control/maxrcpt is capped here
constexpr unsigned kMaxAuthFailures = 3;   // then 421 and hang up
constexpr int kCheckpasswordSeconds = 60;  // checkpassword's time to answer

struct Config {
  std::string home;
  // From the environment (ucspi-tcp's names).
  std::string remoteip = "unknown";
  std::string remotehost = "unknown";
  std::optional<std::string> remoteinfo;
  std::string localhost = "unknown";
  std::optional<std::string> relayclient;
  bool smtps = false;  // $SMTPS: TLS from the first byte (port 465)
  bool submission = false;  // $SUBMISSION: MAIL only after AUTH (port 587, RFC 6409)
  // From control/.
  std::string greeting;
  long long timeout_s = 1200;          // timeoutsmtpd
  long long session_s = 3600;          // timeoutsmtpdsession
  uint64_t databytes = 0;              // databytes or $DATABYTES; 0 = no limit
  size_t maxrcpt = 100;                // maxrcpt
  unsigned maxbad = 20;                // maxbadcommands; 0 = no limit
  bool rcptcheck = true;               // rcptcheck
  bool authplaintext = false;          // authplaintext: AUTH without TLS
  std::vector<std::string> checkpassword;  // checkpassword: program and args
  std::string certfile;                // servercert.pem, when present
};

// Reads the environment and the control files; errors mean "421 unable to
// read controls". The working directory must be QMAILHOME.
Result<Config> load_config(const std::string& home);

struct Session {
  Session(const Config& c, Conn& k, RelayPolicy& p) : cfg(c), conn(k), policy(p) {}

  const Config& cfg;
  Conn& conn;
  RelayPolicy& policy;

  // Connection state.
  std::string helo;          // qmail's helohost: the remote host until HELO/EHLO
  bool ehlo = false;         // the last greeting was EHLO
  bool need_ehlo = false;    // after STARTTLS, until the next HELO/EHLO
  TlsTransport* tls = nullptr;  // set once TLS is up (owned by conn)
  bool authenticated = false;
  unsigned auth_failures = 0;
  unsigned bad = 0;          // 5xx replies so far

  // The mail transaction.
  bool seenmail = false;
  std::string mailfrom;
  bool utf8 = false;         // MAIL ... SMTPUTF8
  bool flagbarf = false;     // sender in badmailfrom
  std::vector<std::string> rcpts;

  std::optional<RecipientsDb> rdb;  // opened when first needed

  // Queues a reply; a 5xx reply counts as a bad command.
  void reply(std::string_view line);
  void reset_transaction();
  bool auth_offered() const;
  bool tls_offered() const;
};

// The whole session on fds 0/1: greeting, commands until QUIT or EOF.
// Returns the exit code.
int serve(const Config& cfg);

// Command actions, by feature (commands.cc runs the table).
void smtp_mail(Session& s, std::string_view arg);
void smtp_rcpt(Session& s, std::string_view arg);
void smtp_data(Session& s, std::string_view arg);
void smtp_auth(Session& s, std::string_view arg);
void smtp_starttls(Session& s, std::string_view arg);

}  // namespace qng::smtpd

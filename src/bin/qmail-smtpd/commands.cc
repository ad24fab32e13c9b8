// commands.cc: the session: greeting, then one command per line, run from
// a table of {verb, needs, action} rows. The needs are checked here, apart
// from the actions, in the order of the Need list.
#include <unistd.h>

#include <algorithm>

#include "address.h"
#include "replies.h"
#include "session.h"
#include "tls.h"

namespace qng::smtpd {

namespace {

enum Need : unsigned {
  kFree = 0,
  kGreeted = 1u << 0,        // after STARTTLS a new HELO/EHLO comes first
  kMail = 1u << 1,           // a MAIL was accepted
  kRcpt = 1u << 2,           // a RCPT was accepted
  kNoTransaction = 1u << 3,  // not inside a mail transaction
  kNoArgument = 1u << 4,
};

using Action = void (*)(Session&, std::string_view);

struct Command {
  std::string_view verb;
  unsigned needs;
  Action action;
};

void greet_helo(Session& s, std::string_view arg, bool ehlo) {
  s.helo = std::string(arg);
  s.ehlo = ehlo;
  s.need_ehlo = false;
  s.reset_transaction();
}

void smtp_helo(Session& s, std::string_view arg) {
  greet_helo(s, arg, false);
  s.reply("250 " + s.cfg.greeting);
}

void smtp_ehlo(Session& s, std::string_view arg) {
  greet_helo(s, arg, true);
  std::vector<std::string> lines{s.cfg.greeting, "PIPELINING", "8BITMIME"};
  lines.push_back(s.cfg.databytes > 0 ? "SIZE " + std::to_string(s.cfg.databytes) : "SIZE");
  lines.emplace_back("ENHANCEDSTATUSCODES");
  lines.emplace_back("SMTPUTF8");
  if (s.tls_offered()) lines.emplace_back("STARTTLS");
  if (s.auth_offered()) lines.emplace_back("AUTH PLAIN LOGIN");
  for (size_t i = 0; i < lines.size(); ++i)
    s.reply((i + 1 < lines.size() ? "250-" : "250 ") + lines[i]);
}

void smtp_rset(Session& s, std::string_view) {
  s.reset_transaction();
  s.reply(reply::kRset);
}

void smtp_noop(Session& s, std::string_view) { s.reply(reply::kNoop); }
void smtp_vrfy(Session& s, std::string_view) { s.reply(reply::kVrfy); }
void smtp_help(Session& s, std::string_view) { s.reply(reply::kHelp); }

void smtp_quit(Session& s, std::string_view) { s.conn.die("221 2.0.0 " + s.cfg.greeting, 0); }

constexpr Command kCommands[] = {
    {"helo", kFree, smtp_helo},
    {"ehlo", kFree, smtp_ehlo},
    {"mail", kGreeted, smtp_mail},
    {"rcpt", kGreeted | kMail, smtp_rcpt},
    {"data", kGreeted | kMail | kRcpt, smtp_data},
    {"rset", kFree, smtp_rset},
    {"noop", kFree, smtp_noop},
    {"vrfy", kFree, smtp_vrfy},
    {"help", kFree, smtp_help},
    {"quit", kFree, smtp_quit},
    {"starttls", kNoArgument, smtp_starttls},
    {"auth", kGreeted | kNoTransaction, smtp_auth},
};

bool refuse(Session& s, std::string_view why) {
  s.reply(why);
  return false;
}

// The checks of a row, before its action runs; false when refused.
bool permitted(Session& s, unsigned needs, std::string_view arg) {
  if ((needs & kGreeted) && s.need_ehlo) return refuse(s, reply::kEhloFirst);
  if ((needs & kMail) && !s.seenmail) return refuse(s, reply::kMailFirst);
  if ((needs & kRcpt) && s.rcpts.empty()) return refuse(s, reply::kRcptFirst);
  if ((needs & kNoTransaction) && s.seenmail) return refuse(s, reply::kAuthInMail);
  if ((needs & kNoArgument) && !arg.empty()) return refuse(s, reply::kNoParameters);
  return true;
}

void dispatch(Session& s, std::string_view line) {
  if (line.find('\0') != std::string_view::npos) return s.reply(reply::kNulInCommand);
  // qmail's commands(): the verb ends at the first space; spaces after it
  // are skipped.
  size_t sp = line.find(' ');
  std::string_view verb = line.substr(0, sp);
  std::string_view arg;
  if (sp != std::string_view::npos) {
    arg = line.substr(sp);
    while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  }
  if (line.size() > kMaxCommand && !iequals(verb, "auth")) return s.reply(reply::kLineTooLong);
  auto row = std::find_if(std::begin(kCommands), std::end(kCommands),
                          [&](const Command& c) { return iequals(c.verb, verb); });
  if (row == std::end(kCommands)) return s.reply(reply::kUnimplemented);
  if (!permitted(s, row->needs, arg)) return;
  row->action(s, arg);
}

// RFC 3207: after the handshake the server forgets what the client said.
void forget_client(Session& s) {
  s.helo = s.cfg.remotehost;
  s.ehlo = false;
  s.need_ehlo = true;
  s.authenticated = false;
  s.reset_transaction();
}

void start_tls(Session& s, const TlsContext& ctx) {
  auto t = TlsTransport::accept(ctx, 0, 1, s.conn.wait_ms());
  if (!t) ::_exit(1);  // nothing sensible can be said on a broken handshake
  s.tls = t->get();
  s.conn.set_transport(std::move(*t));
}

}  // namespace

void Session::reply(std::string_view line) {
  if (!line.empty() && line[0] == '5') ++bad;
  conn.reply(line);
}

void Session::reset_transaction() {
  seenmail = false;
  mailfrom.clear();
  utf8 = false;
  flagbarf = false;
  rcpts.clear();
}

bool Session::tls_offered() const { return !cfg.certfile.empty() && !tls; }

bool Session::auth_offered() const {
  return !cfg.checkpassword.empty() && (tls || cfg.authplaintext);
}

void smtp_starttls(Session& s, std::string_view) {
  if (s.tls) return s.reply(reply::kTlsActive);
  if (s.cfg.certfile.empty()) return s.reply(reply::kUnimplemented);
  auto ctx = TlsContext::load(s.cfg.certfile);
  if (!ctx) return s.reply(reply::kTlsUnavailable);
  s.conn.reply(reply::kTlsGo);
  s.conn.flush();
  // Bytes pipelined after STARTTLS were sent in the clear: they must not be
  // taken as if they came through TLS (CVE-2011-0411).
  s.conn.discard_input();
  start_tls(s, *ctx);
  forget_client(s);
}

int serve(const Config& cfg) {
  auto policy = RelayPolicy::load(Control(cfg.home + "/control"));
  Conn conn(std::make_unique<FdTransport>(0, 1), cfg.timeout_s, cfg.session_s);
  if (!policy) conn.die(reply::kControls);
  Session s(cfg, conn, *policy);
  s.helo = cfg.remotehost;  // qmail's setup(): dohelo(remotehost)

  if (cfg.smtps) {  // implicit TLS: the handshake comes before the greeting
    if (cfg.certfile.empty()) return 1;
    auto ctx = TlsContext::load(cfg.certfile);
    if (!ctx) return 1;
    start_tls(s, *ctx);
  }
  conn.reply("220 " + cfg.greeting + " ESMTP");

  std::string line;
  for (;;) {
    if (cfg.maxbad != 0 && s.bad >= cfg.maxbad) conn.die(reply::kTooManyBad);
    if (!conn.read_line(line, kMaxAuthLine)) {
      s.reply(reply::kLineTooLong);
      continue;
    }
    dispatch(s, line);
  }
}

}  // namespace qng::smtpd

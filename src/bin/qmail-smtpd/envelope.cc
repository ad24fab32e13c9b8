// envelope.cc: MAIL and RCPT: parameters, badmailfrom, relaying, the
// recipient limit and the recipient check.
#include <algorithm>
#include <cerrno>

#include "address.h"
#include "replies.h"
#include "session.h"
#include "size.h"

namespace qng::smtpd {

namespace {

bool has_8bit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// MAIL's ESMTP parameters (RFC 1870 SIZE, RFC 6152 BODY, RFC 6531
// SMTPUTF8, RFC 4954 AUTH). The reply that refuses them, or "" when fine.
std::string_view mail_parameters(Session& s, const std::vector<std::string>& params,
                                 bool& utf8) {
  for (const auto& p : params) {
    size_t eq = p.find('=');
    std::string_view name = std::string_view(p).substr(0, eq);
    std::string_view value =
        eq == std::string::npos ? std::string_view() : std::string_view(p).substr(eq + 1);
    bool has_value = eq != std::string::npos;
    if (iequals(name, "SIZE")) {
      auto size = parse_decimal(value);
      if (!size) return reply::kSyntax;
      if (s.cfg.databytes > 0 && *size > s.cfg.databytes) return reply::kTooBig;
    } else if (iequals(name, "BODY")) {
      if (!iequals(value, "7BIT") && !iequals(value, "8BITMIME")) return reply::kBadParameter;
    } else if (iequals(name, "SMTPUTF8")) {
      if (has_value) return reply::kSyntax;
      utf8 = true;
    } else if (iequals(name, "AUTH")) {
      if (!has_value) return reply::kSyntax;  // the value is not used
    } else {
      return reply::kBadParameter;
    }
  }
  return {};
}

// The path of MAIL or RCPT, our address literals rewritten; nullopt after
// a refusal was answered.
std::optional<SmtpPath> parse_path(Session& s, std::string_view arg) {
  auto path = parse_smtp_path(arg);
  if (!path || path->address.size() > kMaxPath) {
    s.reply(reply::kSyntax);
    return std::nullopt;
  }
  auto rewritten = s.policy.rewrite_literal(std::move(path->address));
  if (!rewritten) s.conn.die(reply::kIpMe);
  path->address = std::move(*rewritten);
  return std::move(*path);
}

// rcptcheck: the recipient database's verdict. When the database is
// missing, our own addresses cannot be checked (an error, 451); others
// need no check.
Result<RcptVerdict> check_recipient(Session& s, const std::string& address) {
  if (!s.rdb) {
    auto db = RecipientsDb::open(s.cfg.home);
    if (!db) {
      if (db.error().code() == ENOENT && !s.policy.ours(address)) return RcptVerdict::kNotOurs;
      return db.error();
    }
    s.rdb.emplace(std::move(*db));
  }
  return s.rdb->check(address);
}

}  // namespace

void smtp_mail(Session& s, std::string_view arg) {
  // Submission (RFC 6409 section 4.3, RFC 4954 section 6): no mail without
  // a login.
  if (s.cfg.submission && !s.authenticated) return s.reply(reply::kAuthRequired);
  auto path = parse_path(s, arg);
  if (!path) return;
  bool utf8 = false;
  if (auto refusal = mail_parameters(s, path->params, utf8); !refusal.empty())
    return s.reply(refusal);
  if (!utf8 && has_8bit(path->address)) return s.reply(reply::kNeedUtf8);
  s.reset_transaction();
  s.flagbarf = s.policy.badmailfrom(path->address);
  s.seenmail = true;
  s.mailfrom = std::move(path->address);
  s.utf8 = utf8;
  s.reply(reply::kMailOk);
}

void smtp_rcpt(Session& s, std::string_view arg) {
  auto path = parse_path(s, arg);
  if (!path) return;
  // RCPT takes no parameters here (no DSN), and <> is no forward-path.
  if (!path->params.empty()) return s.reply(reply::kBadParameter);
  if (path->address.empty()) return s.reply(reply::kSyntax);
  if (!s.utf8 && has_8bit(path->address)) return s.reply(reply::kNeedUtf8);
  if (s.flagbarf) return s.reply(reply::kBadMailFrom);
  if (s.rcpts.size() >= s.cfg.maxrcpt) return s.reply(reply::kTooManyRcpt);

  std::string address = std::move(path->address);
  if (s.cfg.relayclient) {
    address += *s.cfg.relayclient;
  } else if (!s.authenticated) {
    auto allowed = s.policy.rcpthost_allowed(address);
    if (!allowed) return s.reply(reply::kControlsLater);
    if (!*allowed) return s.reply(reply::kNotRcptHost);
  }
  if (s.cfg.rcptcheck) {
    auto verdict = check_recipient(s, address);
    if (!verdict) return s.reply(reply::kRcptDbDown);
    if (*verdict == RcptVerdict::kUnknown) return s.reply(reply::kNoMailbox);
  }
  s.rcpts.push_back(std::move(address));
  s.reply(reply::kRcptOk);
}

}  // namespace qng::smtpd

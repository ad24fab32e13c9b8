// header.cc: qmail-inject's header rewriting (qmail-header(5)).
#include "header.h"

#include <algorithm>
#include <cstdio>

#include "address.h"
#include "date.h"

namespace qng::inject {
namespace {

size_t index(Field f) { return static_cast<size_t>(f); }

Error unparsable(const std::string& line) {
  std::string text = "unable to parse this line:\n" + line;
  if (text.back() != '\n') text.push_back('\n');
  return Error::perm(text);
}

// RFC 822 atom bytes (qmail's quote.c): anything else needs a quoted string.
bool atom_byte(unsigned char c) {
  if (c <= ' ' || c >= 127) return false;
  switch (c) {
    case '"': case '(': case ')': case ',': case ':': case ';': case '<':
    case '>': case '@': case '[': case '\\': case ']':
      return false;
    default:
      return true;
  }
}

bool needs_quote(std::string_view box) {
  if (box.empty()) return true;
  for (char c : box)
    if (!atom_byte(static_cast<unsigned char>(c))) return true;
  if (box.front() == '.' || box.back() == '.') return true;
  return box.find("..") != std::string_view::npos;
}

constexpr Field kResentFields[] = {
    Field::kResentSender, Field::kResentFrom, Field::kResentReplyTo, Field::kResentTo,
    Field::kResentCc,     Field::kResentBcc,  Field::kResentDate,    Field::kResentMessageId,
};

}  // namespace

RecipientMode resolve_mode(RecipientMode mode, bool have_args) {
  if (mode != RecipientMode::kDefault) return mode;
  return have_args ? RecipientMode::kArgs : RecipientMode::kHeader;
}

std::string date_line(const char* name, time_t t) {
  return std::string(name) + ": " + date822(t) + "\n";
}

std::string message_id_line(const char* name, time_t t, pid_t pid, const std::string& idhost) {
  struct tm tm {};
  if (!::gmtime_r(&t, &tm)) {
    time_t zero = 0;
    ::gmtime_r(&zero, &tm);
  }
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%lld%02d%02d%02d%02d%02d",
                static_cast<long long>(tm.tm_year) + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return std::string(name) + ": <" + stamp + "." + std::to_string(pid) + ".qmail@" + idhost +
         ">\n";
}

HeaderRewriter::HeaderRewriter(const Settings& settings, RecipientMode mode, bool print)
    : s_(settings),
      mode_(mode),
      print_(print),
      header_recipients_(mode != RecipientMode::kArgs) {}

Status HeaderRewriter::count(size_t more) {
  if (more > kMaxAddresses - std::min(addresses_, kMaxAddresses))
    return Error::perm("too many addresses (more than " + std::to_string(kMaxAddresses) + ")");
  addresses_ += more;
  return {};
}

Status HeaderRewriter::set_sender(std::string_view arg) {
  std::string quoted = quote_address(arg);
  Tokens t;
  if (!tokenize(quoted, t)) return unparsable(quoted);
  rewrite_address(t, s_.rules);
  sender_ = unquote(t);
  return {};
}

Status HeaderRewriter::add_recipient(std::string_view arg) {
  if (mode_ == RecipientMode::kHeader) return {};
  Tokens t;
  if (arg.empty() || !tokenize(quote_address(arg), t))
    return Error::perm("unable to parse address: " + std::string(arg));
  rewrite_address(t, s_.rules);
  std::string r = unquote(t);
  if (r.empty()) return Error::perm("unable to parse address: " + std::string(arg));
  if (auto s = count(1); !s) return s;
  args_.push_back(std::move(r));
  return {};
}

bool HeaderRewriter::rewrite_field(const std::string& text, Kind kind, std::string& out) {
  Tokens in;
  Tokens rewritten;
  if (!tokenize(text, in)) return false;
  std::vector<std::string> found;
  auto fn = [&](Tokens& a) {
    ++visited_;
    rewrite_address(a, s_.rules);
    if (kind == Kind::kReturnPath) {
      if (!sender_) {
        sender_ = unquote(a);
        if (s_.verp_recipient && !sender_->empty()) *sender_ += "-@[]";
      }
    } else if (kind != Kind::kSender) {
      std::string r = unquote(a);
      if (!r.empty()) found.push_back(std::move(r));
    }
  };
  if (!rewrite_address_list(in, rewritten, fn)) return false;
  out = unparse(rewritten);
  // The walk went right to left; keep the field's own order.
  std::reverse(found.begin(), found.end());
  auto add = [&](std::vector<std::string>& list) {
    list.insert(list.end(), found.begin(), found.end());
  };
  switch (kind) {
    case Kind::kToCc: add(header_); add(to_cc_); break;
    case Kind::kRecipient: add(header_); break;
    case Kind::kResentRecipient: add(resent_); break;
    default: break;
  }
  return true;
}

Status HeaderRewriter::field(std::string text) {
  Field type = field_type(text);
  if (s_.drop_from && type == Field::kFrom) return {};
  if (s_.drop_message_id && type == Field::kMessageId) return {};
  if (s_.drop_return_path && type == Field::kReturnPath) return {};
  seen_[index(type)] = true;

  Kind kind = Kind::kNone;
  switch (type) {
    case Field::kTo: case Field::kCc:
      kind = Kind::kToCc;
      break;
    case Field::kBcc: case Field::kApparentlyTo:
      kind = Kind::kRecipient;
      break;
    case Field::kResentTo: case Field::kResentCc: case Field::kResentBcc:
      kind = Kind::kResentRecipient;
      break;
    case Field::kReturnPath:
      kind = Kind::kReturnPath;
      break;
    case Field::kSender: case Field::kFrom: case Field::kReplyTo:
    case Field::kReturnReceiptTo: case Field::kErrorsTo:
    case Field::kResentSender: case Field::kResentFrom: case Field::kResentReplyTo:
      kind = Kind::kSender;
      break;
    default:
      break;
  }

  if (kind != Kind::kNone) {
    std::string out;
    visited_ = 0;
    bool ok = rewrite_field(text, kind, out);
    if (auto s = count(visited_); !s) return s;
    if (ok) {
      text = std::move(out);
    } else if (kind == Kind::kSender || kind == Kind::kReturnPath || header_recipients_) {
      // A recipient field we cannot read may be kept as it is only when
      // the recipients come from the arguments alone.
      return unparsable(text);
    }
  }

  switch (type) {
    case Field::kBcc: case Field::kResentBcc: case Field::kReturnPath:
    case Field::kContentLength:
      return {};
    default:
      break;
  }
  kept_.push_back(std::move(text));
  return {};
}

Result<std::string> HeaderRewriter::default_from() {
  Tokens df{{Tok::kAtom, "From"}, {Tok::kColon, {}}};
  bool phrase = s_.full_name && !s_.name_comment;
  if (phrase) {
    df.push_back({Tok::kQuote, *s_.full_name});
    df.push_back({Tok::kLeft, {}});
  }
  df.push_back({needs_quote(s_.mail_user) ? Tok::kQuote : Tok::kAtom, s_.mail_user});
  if (s_.mail_host) {
    df.push_back({Tok::kAt, {}});
    df.push_back({Tok::kAtom, *s_.mail_host});
  }
  if (phrase) df.push_back({Tok::kRight, {}});
  if (s_.full_name && s_.name_comment) df.push_back({Tok::kComment, *s_.full_name});

  // Printed and read back, so that the host's dots count as dots.
  std::string text = unparse(df);
  Tokens in;
  Tokens out;
  if (!tokenize(text, in)) return unparsable(text);
  auto fn = [&](Tokens& a) { rewrite_address(a, s_.rules); };
  if (!rewrite_address_list(in, out, fn)) return unparsable(text);
  return unparse(out);
}

Status HeaderRewriter::default_return_path() {
  std::string user = s_.sender_user;
  if (s_.verp_message)
    user += "-" + std::to_string(static_cast<long long>(s_.start)) + "." + std::to_string(s_.pid);
  if (s_.verp_recipient) user += "-";
  Tokens rp{{Tok::kAtom, "Return-Path"}, {Tok::kColon, {}}, {Tok::kQuote, user}};
  if (s_.sender_host) {
    rp.push_back({Tok::kAt, {}});
    rp.push_back({Tok::kAtom, *s_.sender_host});
  }
  std::string text = unparse(rp);
  std::string ignored;
  if (!rewrite_field(text, Kind::kReturnPath, ignored)) return unparsable(text);
  if (!sender_) sender_ = "";  // "Return-Path:" with no address at all
  return {};
}

std::string HeaderRewriter::mail_followup_to() const {
  if (!s_.mft || seen_[index(Field::kMailFollowupTo)]) return {};
  bool listed = std::any_of(to_cc_.begin(), to_cc_.end(), [&](const std::string& a) {
    return std::any_of(s_.mft->begin(), s_.mft->end(),
                       [&](const std::string& l) { return iequals(a, l); });
  });
  if (!listed) return {};
  std::string out = "Mail-Followup-To: ";
  for (size_t i = 0; i < to_cc_.size(); ++i) {
    if (i) out += ",\n  ";
    out += quote_address(to_cc_[i]);
  }
  out += "\n";
  return out;
}

Result<std::string> HeaderRewriter::finish() {
  bool resent = std::any_of(std::begin(kResentFields), std::end(kResentFields),
                            [&](Field f) { return seen_[index(f)]; });
  if (!sender_) {
    if (auto s = default_return_path(); !s) return s.error();
  }

  std::string out;
  if (print_) out += "Return-Path: <" + quote_address(*sender_) + ">\n";

  if (resent) {
    if (!seen_[index(Field::kResentDate)]) out += date_line("Resent-Date", s_.start);
    if (!seen_[index(Field::kResentMessageId)])
      out += message_id_line("Resent-Message-ID", s_.start, s_.pid, s_.idhost);
    if (!seen_[index(Field::kResentFrom)]) {
      auto from = default_from();
      if (!from) return from.error();
      out += "Resent-" + *from;
    }
    if (!seen_[index(Field::kResentTo)] && !seen_[index(Field::kResentCc)])
      out += "Resent-Cc: recipient list not shown: ;\n";
  } else {
    if (!seen_[index(Field::kDate)]) out += date_line("Date", s_.start);
    if (!seen_[index(Field::kMessageId)])
      out += message_id_line("Message-ID", s_.start, s_.pid, s_.idhost);
    if (!seen_[index(Field::kFrom)]) {
      auto from = default_from();
      if (!from) return from.error();
      out += *from;
    }
    if (!seen_[index(Field::kTo)] && !seen_[index(Field::kCc)])
      out += "Cc: recipient list not shown: ;\n";
    out += mail_followup_to();
  }

  for (const std::string& f : kept_) out += f;
  return out;
}

std::vector<std::string> HeaderRewriter::recipients() const {
  std::vector<std::string> r = args_;
  if (header_recipients_) {
    bool resent = std::any_of(std::begin(kResentFields), std::end(kResentFields),
                              [&](Field f) { return seen_[index(f)]; });
    const auto& from_header = resent ? resent_ : header_;
    r.insert(r.end(), from_header.begin(), from_header.end());
  }
  return r;
}

}  // namespace qng::inject

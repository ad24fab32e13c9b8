// smtp.cc: the SMTP client dialogue (smtp.h).
#include "smtp.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>

#include "address.h"
#include "body.h"

namespace qng::remote {

namespace {

constexpr size_t kMaxReplyLine = 8192;
constexpr size_t kMaxReplyBytes = 1 << 20;
constexpr size_t kMaxReplyLines = 500;
constexpr size_t kRcptBatch = 100;       // RCPTs per pipelined batch
constexpr size_t kBodyChunk = 65536;

bool digit(char c) { return c >= '0' && c <= '9'; }

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

// The first word of a line, for keyword tests.
std::string_view word(std::string_view s, size_t& pos) {
  while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
  size_t start = pos;
  while (pos < s.size() && s[pos] != ' ' && s[pos] != '\t') ++pos;
  return s.substr(start, pos - start);
}

// One connection's dialogue. Every failure path finishes the output.
class Session {
 public:
  Session(Channel& ch, const Delivery& d, const Target& t, Output& out)
      : ch_(ch), d_(d), ip_(format_ip(t.ip)), name_(t.name), target_(t), out_(out) {}

  Attempt run(bool allow_tls);

 private:
  // Sends what is buffered; false (output finished) when the connection died.
  bool send() {
    if (ch_.flush()) return true;
    dropped();
    return false;
  }
  // Reads the next reply into reply_; false (output finished) on failure.
  bool get();
  void dropped();
  // QUIT, then LETTER-prefixed text: prepend + ip + append + "\n" and the
  // last reply.
  void quit(std::string_view prepend, std::string_view append);
  bool hello(bool& esmtp, Extensions& ext);
  // STARTTLS per policy; false when the output is finished or retry_ set.
  bool starttls(bool esmtp, Extensions& ext);
  bool authenticate(bool esmtp, const Extensions& ext);
  bool blast();

  Channel& ch_;
  const Delivery& d_;
  std::string ip_;
  std::string name_;
  const Target& target_;
  Output& out_;
  Reply reply_;
  bool critical_ = false;
  bool retry_plain_ = false;
  std::string tls_note_;
};

bool Session::get() {
  ReplyParser p;
  std::string line;
  size_t total = 0;
  for (;;) {
    auto s = ch_.read_line(line, kMaxReplyLine);
    if (!s) {
      dropped();
      return false;
    }
    total += line.size();
    if (total > kMaxReplyBytes) {
      dropped();
      return false;
    }
    if (p.feed(line)) break;
  }
  reply_ = p.take();
  return true;
}

void Session::dropped() {
  std::string t = "ZConnected to " + ip_ + " but connection died. ";
  if (critical_) t += "Possible duplicate! ";
  t += "(#4.4.2)\n";
  out_.finish(t);
}

void Session::quit(std::string_view prepend, std::string_view append) {
  ch_.put("QUIT\r\n");
  (void)ch_.flush();  // waiting for the remote side is just too ridiculous
  std::string t(prepend);
  t += ip_;
  t += append;
  t += "\n";
  t += remote_said(reply_.text);
  if (!tls_note_.empty()) {
    if (t.back() != '\n') t += "\n";
    t += tls_note_;
  }
  out_.finish(t);
}

bool Session::hello(bool& esmtp, Extensions& ext) {
  ch_.put("EHLO " + d_.helohost + "\r\n");
  if (!send() || !get()) return false;
  if (reply_.code / 100 == 2) {
    esmtp = true;
    ext = parse_ehlo(reply_.lines);
    return true;
  }
  if (reply_.code >= 500 && reply_.code < 600) {
    esmtp = false;
    ext = Extensions{};
    ch_.put("HELO " + d_.helohost + "\r\n");
    if (!send() || !get()) return false;
    if (reply_.code == 250) return true;
  }
  quit("ZConnected to ", " but my name was rejected.");
  return false;
}

bool Session::starttls(bool esmtp, Extensions& ext) {
  const TlsLevel level = d_.policy.level;
  const bool required = level == TlsLevel::kEncrypt || level == TlsLevel::kVerify;
  if (!esmtp || !ext.starttls) {
    if (!required) return true;
    quit("ZConnected to ",
         std::string(" but it does not offer STARTTLS, which control/tlspolicy requires (") +
             tls_level_name(level) + "). (#4.7.0)");
    return false;
  }
  ch_.put("STARTTLS\r\n");
  if (!send() || !get()) return false;
  if (reply_.code != 220) {
    if (!required) return true;  // RFC 3207: the client may go on in plaintext
    quit("ZConnected to ", " but STARTTLS was refused. (#4.7.0)");
    return false;
  }
  if (ch_.buffered() != 0) {
    // Bytes sent before the handshake would be taken as protected later
    // (the STARTTLS command injection attacks): never go on.
    out_.finish("ZConnected to " + ip_ + " but it sent data after its STARTTLS reply. (#4.7.0)\n");
    return false;
  }
  auto ssl = d_.tls->session(ch_.fd(), name_, target_.ip);
  if (!ssl) {
    out_.finish("ZConnected to " + ip_ + " but I could not start TLS: " +
                one_line(ssl.error().message()) + ". (#4.3.0)\n");
    return false;
  }
  if (auto s = ch_.start_tls(*ssl); !s) {
    if (level == TlsLevel::kMay) {
      retry_plain_ = true;
      return false;
    }
    std::string why = s.error().message();
    out_.finish("ZConnected to " + ip_ + " but the TLS handshake failed (" +
                tls_level_name(level) + "): " + one_line(why) + ". (#4.7.5)\n");
    return false;
  }
  tls_note_ = tls_summary(ch_.ssl(), d_.tls->verify());
  // RFC 3207: forget what was learnt before TLS; say EHLO again.
  ch_.put("EHLO " + d_.helohost + "\r\n");
  if (!send() || !get()) return false;
  if (reply_.code / 100 != 2) {
    quit("ZConnected to ", " but my name was rejected.");
    return false;
  }
  ext = parse_ehlo(reply_.lines);
  return true;
}

bool Session::authenticate(bool esmtp, const Extensions& ext) {
  if (!d_.credentials || !esmtp || !ext.auth) return true;  // nothing to do
  if (!ch_.tls() && !d_.policy.plain_auth) {
    quit("ZConnected to ", " but I will not send the password for " + safe(d_.relay) +
                               " without TLS (see control/tlspolicy). (#4.7.0)");
    return false;
  }
  const Credentials& c = *d_.credentials;
  if (ext.auth_plain) {
    std::string token;
    token.push_back('\0');
    token += c.user;
    token.push_back('\0');
    token += c.password;
    ch_.put("AUTH PLAIN " + base64(token) + "\r\n");
    if (!send() || !get()) return false;
  } else if (ext.auth_login) {
    ch_.put("AUTH LOGIN\r\n");
    if (!send() || !get()) return false;
    if (reply_.code == 334) {
      ch_.put(base64(c.user) + "\r\n");
      if (!send() || !get()) return false;
    }
    if (reply_.code == 334) {
      ch_.put(base64(c.password) + "\r\n");
      if (!send() || !get()) return false;
    }
  } else {
    quit("ZConnected to ", " but it offers no AUTH mechanism I know (PLAIN, LOGIN). (#4.7.0)");
    return false;
  }
  if (reply_.code != 235) {
    if (reply_.code == 334) {
      ch_.put("*\r\n");  // cancel the exchange (RFC 4954)
      (void)ch_.flush();
    }
    // A wrong password is the administrator's to mend: keep the mail.
    quit("ZConnected to ", " but authentication failed. (#4.7.0)");
    return false;
  }
  return true;
}

bool Session::blast() {
  BodyEncoder enc;
  std::string chunk;
  // The signature fields go through the same encoder as the message: the
  // signer took the message's line breaks as the encoder sends them, and
  // the fields end in LF, so the message starts at a line start.
  enc.feed(d_.prefix, chunk);
  ch_.put(chunk);
  char buf[kBodyChunk];
  off_t offset = 0;
  for (;;) {
    ssize_t r = ::pread(d_.message_fd, buf, sizeof buf, offset);
    if (r < 0) {
      if (errno == EINTR) continue;
      out_.finish(kReadMessage);
      return false;
    }
    if (r == 0) break;
    offset += r;
    chunk.clear();
    enc.feed(std::string_view(buf, static_cast<size_t>(r)), chunk);
    ch_.put(chunk);
    if (ch_.pending() >= kBodyChunk && !send()) return false;
  }
  chunk.clear();
  enc.finish(chunk);
  critical_ = true;
  ch_.put(chunk);
  return send();
}

Attempt Session::run(bool allow_tls) {
  if (!get()) return Attempt::kDone;
  if (reply_.code != 220) {
    quit("ZConnected to ", " but greeting failed.");
    return Attempt::kDone;
  }
  bool esmtp = false;
  Extensions ext;
  if (!hello(esmtp, ext)) return Attempt::kDone;
  if (allow_tls && d_.policy.level != TlsLevel::kNone && !starttls(esmtp, ext))
    return retry_plain_ ? Attempt::kRetryPlain : Attempt::kDone;
  if (!authenticate(esmtp, ext)) return Attempt::kDone;
  if (d_.needs_utf8 && !(esmtp && ext.smtputf8)) {
    quit("DConnected to ",
         " but it does not support SMTPUTF8, which the addresses need. (#5.6.7)");
    return Attempt::kDone;
  }

  // MAIL and the RCPTs, in batches when the server pipelines.
  const bool pipe = esmtp && ext.pipelining;
  const size_t batch = pipe ? kRcptBatch : 1;
  ch_.put("MAIL FROM:<" + d_.sender + ">" + mail_params(d_, ext, esmtp) + "\r\n");
  bool mail_read = false;
  bool accepted = false;
  for (size_t i = 0; i < d_.recipients.size();) {
    size_t end = std::min(d_.recipients.size(), i + batch);
    if (pipe || mail_read)
      for (size_t j = i; j < end; ++j) ch_.put("RCPT TO:<" + d_.recipients[j] + ">\r\n");
    if (!send()) return Attempt::kDone;
    if (!mail_read) {
      if (!get()) return Attempt::kDone;
      mail_read = true;
      if (reply_.code >= 500 && reply_.code < 600) {
        quit("DConnected to ", " but sender was rejected.");
        return Attempt::kDone;
      }
      if (reply_.code / 100 != 2) {
        quit("ZConnected to ", " but sender was rejected.");
        return Attempt::kDone;
      }
      if (!pipe) continue;  // now send the first RCPT
    }
    for (size_t j = i; j < end; ++j) {
      if (!get()) return Attempt::kDone;
      if (reply_.code / 100 == 2) {
        out_.accepted();
        accepted = true;
      } else {
        out_.refused(reply_.code >= 500 && reply_.code < 600, ip_, reply_.text);
      }
    }
    i = end;
  }
  if (!accepted) {
    quit("DGiving up on ", ".");
    return Attempt::kDone;
  }

  ch_.put("DATA\r\n");
  if (!send() || !get()) return Attempt::kDone;
  if (reply_.code >= 500 && reply_.code < 600) {
    quit("D", " failed on DATA command.");
    return Attempt::kDone;
  }
  if (reply_.code / 100 != 3) {
    quit("Z", " failed on DATA command.");
    return Attempt::kDone;
  }
  if (!blast()) return Attempt::kDone;
  if (!get()) return Attempt::kDone;
  critical_ = false;
  if (reply_.code >= 500 && reply_.code < 600)
    quit("D", " failed after I sent the message.");
  else if (reply_.code / 100 != 2)
    quit("Z", " failed after I sent the message.");
  else
    quit("K", " accepted message.");
  return Attempt::kDone;
}

}  // namespace

bool ReplyParser::feed(std::string_view line) {
  // qmail's smtpcode(): the code of the first line; a line whose fourth
  // byte is '-' is followed by another.
  if (first_) {
    first_ = false;
    if (line.size() >= 3 && digit(line[0]) && digit(line[1]) && digit(line[2]))
      reply_.code = static_cast<unsigned>((line[0] - '0') * 100 + (line[1] - '0') * 10 +
                                          (line[2] - '0'));
  }
  for (char c : line)
    if (c != '\r' && reply_.text.size() < kMaxSmtpText) reply_.text.push_back(c);
  std::string_view content = line;
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r'))
    content.remove_suffix(1);
  if (reply_.lines.size() < kMaxReplyLines)
    reply_.lines.emplace_back(content.size() > 4 ? content.substr(4) : std::string_view());
  return !(line.size() > 3 && line[3] == '-');
}

Extensions parse_ehlo(const std::vector<std::string>& lines) {
  Extensions e;
  // The first line is the server's greeting to us, not a keyword.
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    size_t pos = 0;
    std::string_view kw = word(l, pos);
    if (iequals(kw, "PIPELINING")) {
      e.pipelining = true;
    } else if (iequals(kw, "SIZE")) {
      e.size = true;
    } else if (iequals(kw, "8BITMIME")) {
      e.eightbitmime = true;
    } else if (iequals(kw, "SMTPUTF8")) {
      e.smtputf8 = true;
    } else if (iequals(kw, "STARTTLS")) {
      e.starttls = true;
    } else if (iequals(kw, "AUTH") || (kw.size() > 5 && iequals(kw.substr(0, 5), "AUTH="))) {
      e.auth = true;
      // "AUTH PLAIN LOGIN", or the old "AUTH=PLAIN LOGIN".
      size_t start = kw.size() > 4 && kw[4] == '=' ? static_cast<size_t>(kw.data() - l.data()) + 5
                                                   : pos;
      std::string_view rest = l.substr(start);
      size_t p = 0;
      for (;;) {
        std::string_view m = word(rest, p);
        if (m.empty()) break;
        if (iequals(m, "PLAIN")) e.auth_plain = true;
        if (iequals(m, "LOGIN")) e.auth_login = true;
      }
    }
  }
  return e;
}

std::string mail_params(const Delivery& d, const Extensions& ext, bool esmtp) {
  std::string p;
  if (!esmtp) return p;
  if (ext.size && d.size) p += " SIZE=" + std::to_string(*d.size);
  // Without 8BITMIME the message goes as it is, as qmail always sent it.
  if (ext.eightbitmime && d.eightbit) p += " BODY=8BITMIME";
  if (d.needs_utf8 && ext.smtputf8) p += " SMTPUTF8";
  return p;
}

Attempt deliver(Channel& ch, const Delivery& d, const Target& target, bool allow_tls,
                Output& out) {
  Session s(ch, d, target, out);
  return s.run(allow_tls);
}

}  // namespace qng::remote

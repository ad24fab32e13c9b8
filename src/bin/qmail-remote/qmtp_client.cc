// qmtp_client.cc: the QMTP client (qmtp_client.h).
#include "qmtp_client.h"

#include <unistd.h>

#include <cerrno>

#include "netstring.h"

namespace qng::remote {

namespace {

constexpr size_t kBodyChunk = 65536;
constexpr size_t kMaxLengthDigits = 10;  // kMaxReplyBytes has 5

// "Remote host said: TEXT\n", the text capped as qmail caps SMTP replies.
std::string said(std::string_view text) {
  if (text.size() > kMaxSmtpText) text = text.substr(0, kMaxSmtpText);
  return remote_said(std::string(text) + "\n");
}

// One connection's dialogue. Every failure path finishes the output.
class QmtpSession {
 public:
  QmtpSession(Channel& ch, const Delivery& d, const Target& t, Output& out)
      : ch_(ch), d_(d), ip_(format_ip(t.ip)), out_(out) {}

  void run();

 private:
  bool send_package();
  // Reads one reply netstring; false (output finished) on failure.
  bool read_reply(WireReply& reply);
  void dropped() {
    std::string t = "ZConnected to " + ip_ + " but connection died. ";
    if (critical_) t += "Possible duplicate! ";
    t += "(#4.4.2)\n";
    out_.finish(t);
  }

  Channel& ch_;
  const Delivery& d_;
  std::string ip_;
  Output& out_;
  bool critical_ = false;  // the whole package may have reached the server
};

bool QmtpSession::send_package() {
  // d_.size counts the DKIM fields (remote.cc adds them for SMTP's SIZE);
  // the message is always a file by now (remote.cc spools a pipe).
  if (!d_.size || *d_.size < d_.prefix.size()) {
    out_.finish(kReadMessage);
    return false;
  }
  const uint64_t stored = *d_.size - d_.prefix.size();
  auto head = qmtp_head(d_.prefix.size(), stored);
  if (!head) {
    out_.finish(kReadMessage);
    return false;
  }
  ch_.put(*head);
  ch_.put(d_.prefix);
  char buf[kBodyChunk];
  uint64_t offset = 0;
  while (offset < stored) {
    size_t want = stored - offset < sizeof buf ? static_cast<size_t>(stored - offset) : sizeof buf;
    ssize_t r = ::pread(d_.message_fd, buf, want, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      // The server never sees a complete package, so takes nothing.
      out_.finish(kReadMessage);
      return false;
    }
    offset += static_cast<uint64_t>(r);
    ch_.put(std::string_view(buf, static_cast<size_t>(r)));
    if (ch_.pending() >= kBodyChunk && !ch_.flush()) {
      dropped();
      return false;
    }
  }
  ch_.put(qmtp_tail(d_.envelope_sender, d_.envelope_recipients));
  critical_ = true;  // the last byte goes now
  if (!ch_.flush()) {
    dropped();
    return false;
  }
  return true;
}

bool QmtpSession::read_reply(WireReply& reply) {
  // The length: digits and ':', checked before anything is read into memory.
  std::string len;
  for (;;) {
    std::string c;
    if (!ch_.read_exact(c, 1)) {
      dropped();
      return false;
    }
    if (c[0] == ':') break;
    if (c[0] < '0' || c[0] > '9' || len.size() >= kMaxLengthDigits || len == "0") {
      out_.finish("ZConnected to " + ip_ +
                  " but it sent a malformed QMTP reply. Possible duplicate! (#4.4.2)\n");
      return false;
    }
    len += c[0];
  }
  uint64_t n = 0;
  for (char c : len) n = n * 10 + static_cast<uint64_t>(c - '0');
  if (len.empty() || n > kMaxReplyBytes) {
    out_.finish("ZConnected to " + ip_ +
                " but it sent a malformed QMTP reply. Possible duplicate! (#4.4.2)\n");
    return false;
  }
  std::string body;
  if (!ch_.read_exact(body, static_cast<size_t>(n) + 1)) {
    dropped();
    return false;
  }
  auto r = body.back() == ',' ? parse_reply(std::string_view(body).substr(0, body.size() - 1))
                              : Result<WireReply>(Error::perm("no comma", EPROTO));
  if (!r) {
    out_.finish("ZConnected to " + ip_ +
                " but it sent a malformed QMTP reply. Possible duplicate! (#4.4.2)\n");
    return false;
  }
  reply = std::move(*r);
  return true;
}

void QmtpSession::run() {
  if (!send_package()) return;
  // Every reply is read before any record is written: a connection that
  // dies half-way is one Z for the message, not a mix.
  std::vector<WireReply> replies;
  for (size_t i = 0; i < d_.envelope_recipients.size(); ++i) {
    WireReply reply;
    if (!read_reply(reply)) return;
    replies.push_back(std::move(reply));
  }
  qmtp_report(replies, ip_, out_);
}

}  // namespace

bool mxps_qmtp(unsigned pref) { return pref >= 12800 && pref <= 13055 && pref % 16 == 1; }

Result<std::string> qmtp_head(uint64_t prefix_len, uint64_t message_len) {
  // 1 (the LF) + prefix + message, each step checked.
  if (prefix_len > kMaxWireLength || message_len > kMaxWireLength - prefix_len)
    return Error::perm("message too long for QMTP", E2BIG);
  return std::to_string(1 + prefix_len + message_len) + ":\n";
}

std::string qmtp_tail(std::string_view sender, const std::vector<std::string>& recipients) {
  std::string list;
  for (const std::string& r : recipients) append_netstring(list, r);
  std::string out = ",";
  append_netstring(out, sender);
  append_netstring(out, list);
  return out;
}

void qmtp_report(const std::vector<WireReply>& replies, std::string_view ip, Output& out) {
  const WireReply* first_k = nullptr;
  for (const WireReply& r : replies) {
    if (r.code == 'K') {
      out.accepted();
      if (!first_k) first_k = &r;
    } else {
      std::string text = r.text.size() > kMaxSmtpText ? r.text.substr(0, kMaxSmtpText) : r.text;
      out.refused(r.code == 'D', ip, text + "\n");
    }
  }
  if (first_k) {
    out.finish("K" + std::string(ip) + " accepted message.\n" + said(first_k->text));
    return;
  }
  std::string t = "DGiving up on " + std::string(ip) + ".\n";
  if (!replies.empty()) t += said(replies.back().text);
  out.finish(t);
}

void deliver_qmtp(Channel& ch, const Delivery& d, const Target& target, Output& out) {
  QmtpSession s(ch, d, target, out);
  s.run();
}

}  // namespace qng::remote

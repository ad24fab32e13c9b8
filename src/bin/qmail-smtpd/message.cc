// message.cc: DATA: the message streams from the client through the DATA
// reader into qmail-queue (never held whole in memory); after the end of
// the data it is committed, or abandoned with the refusal's reply.
#include <ctime>

#include "data.h"
#include "qqclient.h"
#include "received.h"
#include "replies.h"
#include "session.h"
#include "tls.h"

namespace qng::smtpd {

namespace {

// "D<text>" / "Z<text>" from qmail-queue's caller side as an SMTP reply;
// the enhanced code comes from the text's "(#x.y.z)" when it has one of
// the right class.
std::string queue_reply(const std::string& qqx) {
  bool permanent = !qqx.empty() && qqx[0] == 'D';
  std::string text = qqx.empty() ? std::string() : qqx.substr(1);
  for (char& c : text)
    if (static_cast<unsigned char>(c) < ' ' || c == 127) c = '?';
  std::string code = permanent ? "5.3.0" : "4.3.0";
  size_t open = text.rfind("(#");
  size_t close = open == std::string::npos ? open : text.find(')', open);
  if (close != std::string::npos) {
    std::string c = text.substr(open + 2, close - open - 2);
    if (c.size() >= 5 && c.size() <= 11 && c[0] == code[0] && c[1] == '.' &&
        c.find_first_not_of("0123456789.") == std::string::npos)
      code = c;
  }
  return (permanent ? "554 " : "451 ") + code + " " + text;
}

ReceivedInfo received_info(const Session& s) {
  ReceivedInfo r;
  r.remotehost = s.cfg.remotehost;
  r.helo = s.helo;
  r.remoteinfo = s.cfg.remoteinfo;
  r.remoteip = s.cfg.remoteip;
  r.localhost = s.cfg.localhost;
  r.ehlo = s.ehlo;
  r.utf8 = s.utf8;
  r.authenticated = s.authenticated;
  if (s.tls) {
    r.tls_version = s.tls->version();
    r.tls_cipher = s.tls->cipher();
  }
  r.when = ::time(nullptr);
  return r;
}

}  // namespace

void smtp_data(Session& s, std::string_view) {
  std::string from = std::move(s.mailfrom);
  std::vector<std::string> rcpts = std::move(s.rcpts);
  ReceivedInfo info = received_info(s);
  s.reset_transaction();  // qmail: after DATA, even a failed one, a new MAIL is needed
  auto qq = QueueClient::start(s.cfg.home);
  if (!qq) return s.reply(reply::kQqtFailure);
  s.conn.reply(reply::kGoAhead);

  qq->put(received_line(info));
  DataReader reader(s.cfg.databytes);
  std::string out;
  while (!reader.done()) {
    std::string_view in = s.conn.peek();  // flushes 354 before it waits
    s.conn.consume(reader.feed(in, out));
    if (!out.empty()) {
      qq->put(out);
      out.clear();
    }
  }

  switch (reader.verdict()) {
    case DataReader::Verdict::kOk: break;
    // A refused message is abandoned: qmail-queue never gets its envelope.
    case DataReader::Verdict::kBareLineEnd: return s.reply(reply::kBareLineEnd);
    case DataReader::Verdict::kNul: return s.reply(reply::kNul);
    case DataReader::Verdict::kHops: return s.reply(reply::kHops);
    case DataReader::Verdict::kTooBig: return s.reply(reply::kTooBig);
  }
  pid_t qp = qq->pid();
  qq->from(from);
  for (const auto& r : rcpts) qq->to(r);
  std::string qqx = qq->finish();
  if (!qqx.empty()) return s.reply(queue_reply(qqx));
  s.reply("250 2.0.0 ok " + std::to_string(::time(nullptr)) + " qp " + std::to_string(qp));
}

}  // namespace qng::smtpd

// qmqpd.cc: one QMQP request, streamed into qmail-queue as it arrives,
// then one reply. QMQP's clients are trusted (the listener's rules decide
// who may connect): no relay control, no recipient check.
#include "qmqpd.h"

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <optional>

#include "control.h"
#include "netstring.h"
#include "qqclient.h"
#include "size.h"

namespace qng::qmqpd {

namespace {

namespace reply {
constexpr std::string_view kBadAddress = "Dsorry, I can't accept addresses like that (#5.1.3)";
// qmail-ng's additions, worded as qmail-smtpd's replies.
constexpr std::string_view kTooBig = "Dsorry, that message size exceeds my databytes limit (#5.3.4)";
constexpr std::string_view kHops = "Dtoo many hops, this message is looping (#5.4.6)";
}  // namespace reply

}  // namespace

Result<Config> load_config(const std::string& home) {
  Config c;
  c.home = home;
  c.peer = tcp_peer_from_env();
  auto databytes = databytes_limit(home + "/control");
  if (!databytes) return databytes.error();
  c.databytes = *databytes;
  return c;
}

int serve(const Config& cfg) {
  Reader in(0);
  Writer out(1);
  QmqpReader wire(in);
  auto began = wire.begin();
  if (!began) return wire_exit_code(began.error());
  if (!*began) return 0;

  // Too big: read to the end all the same (the reply may only follow the
  // whole request), but queue nothing.
  bool too_big = cfg.databytes != 0 && wire.message_length() > cfg.databytes;
  std::optional<QueueClient> qq;
  pid_t qp = 0;
  if (!too_big) {
    auto started = QueueClient::start(cfg.home);
    if (!started) return 111;  // qmail: resources()
    qq.emplace(std::move(*started));
    qp = qq->pid();
    qq->put(network_received_line("QMQP", cfg.peer, ::time(nullptr)));
  }

  HopCounter hops;
  for (;;) {
    auto piece = wire.message();
    if (!piece) return wire_exit_code(piece.error());
    if (piece->empty()) break;
    if (!qq || hops.looping()) continue;
    hops.feed(*piece);
    qq->put(*piece);
  }

  bool addresses_ok = true;
  auto sender = wire.sender();
  if (!sender) return wire_exit_code(sender.error());
  if (!sender->acceptable) addresses_ok = false;
  if (qq) qq->from(sender->address);
  for (;;) {
    auto r = wire.recipient();
    if (!r) return wire_exit_code(r.error());
    if (!*r) break;
    if (!(*r)->acceptable || (*r)->address.empty()) {
      addresses_ok = false;
      continue;
    }
    if (qq) qq->to((*r)->address);
  }

  // A refused message is abandoned: qmail-queue never sees the end of its
  // envelope, so nothing is queued.
  std::string result;
  if (!addresses_ok)
    result = reply::kBadAddress;
  else if (too_big)
    result = reply::kTooBig;
  else if (hops.looping())
    result = reply::kHops;
  else if (qq)
    result = qq->finish();
  qq.reset();
  if (result.empty())
    result = "Kok " + std::to_string(::time(nullptr)) + " qp " + std::to_string(qp);

  out.put(netstring(result));
  if (auto s = out.flush(); !s) return wire_exit_code(s.error());
  return 0;
}

}  // namespace qng::qmqpd

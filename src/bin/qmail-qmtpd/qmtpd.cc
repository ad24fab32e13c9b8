// qmtpd.cc: the QMTP session: packages one after another, each streamed
// into its own qmail-queue as it arrives, then one reply per recipient.
#include "qmtpd.h"

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "control.h"
#include "netstring.h"
#include "relaypolicy.h"  // the relay policy, shared with qmail-smtpd
#include "qqclient.h"
#include "recipients.h"
#include "size.h"

namespace qng::qmtpd {

namespace {

// Every reply qmail-qmtpd gives besides qmail-queue's own texts.
namespace reply {
constexpr std::string_view kBadSender = "Dunacceptable sender (#5.1.7)";
constexpr std::string_view kCantHandle = "Dsorry, I can't handle that recipient (#5.1.3)";
constexpr std::string_view kNotRcptHost =
    "Dsorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)";
constexpr std::string_view kTooBig = "Dsorry, that message size exceeds my databytes limit (#5.3.4)";
// qmail-ng's additions, worded as qmail-smtpd's replies.
constexpr std::string_view kNoMailbox = "Dsorry, no mailbox here by that name. (#5.1.1)";
constexpr std::string_view kHops = "Dtoo many hops, this message is looping (#5.4.6)";
constexpr std::string_view kDbDown = "Zrecipient database unavailable (#4.3.0)";
constexpr std::string_view kControls = "Zunable to read controls (#4.3.0)";
constexpr std::string_view kTooMany = "Zsorry, too many recipients in one package (#4.5.3)";
}  // namespace reply

// What happens to one recipient.
enum class Verdict {
  kAccepted,     // handed to qmail-queue; gets the package's result
  kCantHandle,
  kNotRcptHost,
  kNoMailbox,
  kDbDown,
  kControls,
};

std::string_view verdict_text(Verdict v) {
  switch (v) {
    case Verdict::kAccepted: break;
    case Verdict::kCantHandle: return reply::kCantHandle;
    case Verdict::kNotRcptHost: return reply::kNotRcptHost;
    case Verdict::kNoMailbox: return reply::kNoMailbox;
    case Verdict::kDbDown: return reply::kDbDown;
    case Verdict::kControls: return reply::kControls;
  }
  return reply::kControls;
}

class Session {
 public:
  Session(const Config& cfg, const RelayPolicy& policy)
      : cfg_(cfg), policy_(policy), in_(0), out_(1), wire_(in_) {}

  int run() {
    for (;;) {
      auto began = wire_.begin();
      if (!began) return wire_exit_code(began.error());
      if (!*began) return 0;
      if (int code = package(); code >= 0) return code;
    }
  }

 private:
  // One package, from its message to its replies; -1 to go on, else the
  // exit code.
  int package();
  Verdict judge(const WireAddress& a, std::string& address);
  Result<RcptVerdict> check_recipient(const std::string& address);

  const Config& cfg_;
  const RelayPolicy& policy_;
  Reader in_;
  Writer out_;
  QmtpReader wire_;
  std::optional<RecipientsDb> rdb_;  // opened when first needed
};

Result<RcptVerdict> Session::check_recipient(const std::string& address) {
  if (!rdb_) {
    auto db = RecipientsDb::open(cfg_.home);
    if (!db) {
      // Without the database our own addresses cannot be checked; others
      // need no check.
      if (db.error().code() == ENOENT && !policy_.ours(address)) return RcptVerdict::kNotOurs;
      return db.error();
    }
    rdb_.emplace(std::move(*db));
  }
  return rdb_->check(address);
}

Verdict Session::judge(const WireAddress& a, std::string& address) {
  if (!a.acceptable || a.address.empty()) return Verdict::kCantHandle;
  address = a.address;
  if (cfg_.relayclient) {
    // qmail: the address with RELAYCLIENT appended must stay below 1000.
    if (cfg_.relayclient->size() >= kMaxWireAddress - address.size()) return Verdict::kCantHandle;
    address += *cfg_.relayclient;
  } else {
    auto allowed = policy_.rcpthost_allowed(address);
    if (!allowed) return Verdict::kControls;
    if (!*allowed) return Verdict::kNotRcptHost;
  }
  if (cfg_.rcptcheck) {
    auto v = check_recipient(address);
    if (!v) return Verdict::kDbDown;
    if (*v == RcptVerdict::kUnknown) return Verdict::kNoMailbox;
  }
  return Verdict::kAccepted;
}

int Session::package() {
  auto started = QueueClient::start(cfg_.home);
  if (!started) return 111;  // qmail: resources()
  std::optional<QueueClient> qq(std::move(*started));
  pid_t qp = qq->pid();
  qq->put(network_received_line("QMTP", cfg_.peer, ::time(nullptr)));

  // The message streams into qmail-queue; once it is refused (too big, a
  // loop) the rest is read and dropped. The header is counted for loops
  // even past databytes: a loop is the better reason, as in qmail-smtpd.
  HopCounter hops;
  uint64_t stored = 0;
  bool too_big = false;
  for (;;) {
    auto piece = wire_.message();
    if (!piece) return wire_exit_code(piece.error());
    if (piece->empty()) break;
    if (!hops.looping()) hops.feed(*piece);
    if (too_big || hops.looping()) continue;
    if (cfg_.databytes != 0 && !fits(stored, piece->size(), cfg_.databytes)) {
      too_big = true;
      continue;
    }
    stored += piece->size();
    qq->put(*piece);
  }

  auto sender = wire_.sender();
  if (!sender) return wire_exit_code(sender.error());
  qq->from(sender->acceptable ? sender->address : std::string());

  std::vector<Verdict> verdicts;
  size_t excess = 0;  // recipients beyond kMaxRecipients
  bool any = false;
  for (;;) {
    auto r = wire_.recipient();
    if (!r) return wire_exit_code(r.error());
    if (!*r) break;
    if (verdicts.size() >= kMaxRecipients) {
      ++excess;
      continue;
    }
    std::string address;
    Verdict v = judge(**r, address);
    if (v == Verdict::kAccepted) {
      qq->to(address);
      any = true;
    }
    verdicts.push_back(v);
  }

  // The package's result, for every accepted recipient. A refused message
  // is abandoned: qmail-queue never sees the end of its envelope.
  std::string result;
  if (hops.looping())
    result = reply::kHops;
  else if (too_big)
    result = reply::kTooBig;
  else if (!sender->acceptable)
    result = reply::kBadSender;
  else if (any)
    result = qq->finish();
  qq.reset();
  if (result.empty() && any)
    result = "Kok " + std::to_string(::time(nullptr)) + " qp " + std::to_string(qp);

  for (Verdict v : verdicts)
    out_.put(netstring(v == Verdict::kAccepted ? std::string_view(result) : verdict_text(v)));
  std::string too_many = netstring(reply::kTooMany);
  for (size_t i = 0; i < excess; ++i) out_.put(too_many);
  if (auto s = out_.flush(); !s) return wire_exit_code(s.error());
  return -1;
}

}  // namespace

Result<Config> load_config(const std::string& home) {
  Config c;
  c.home = home;
  c.peer = tcp_peer_from_env();
  if (const char* r = std::getenv("RELAYCLIENT")) c.relayclient = r;

  auto databytes = databytes_limit(home + "/control");
  if (!databytes) return databytes.error();
  c.databytes = *databytes;
  Control control(home + "/control");
  auto rcptcheck = control.number("rcptcheck", 1);
  if (!rcptcheck) return rcptcheck.error();
  c.rcptcheck = *rcptcheck != 0;
  return c;
}

int serve(const Config& cfg) {
  auto policy = RelayPolicy::load(Control(cfg.home + "/control"));
  if (!policy) return 111;
  Session session(cfg, *policy);
  return session.run();
}

}  // namespace qng::qmtpd

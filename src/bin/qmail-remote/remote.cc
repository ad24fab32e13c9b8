// remote.cc: one qmail-remote run: controls, routes, DNS, then each
// address in turn until one server takes the message or refuses it, by
// SMTP or (qmtproutes, MXPS) by QMTP.
#include "remote.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <random>

#include "address.h"
#include "body.h"
#include "connect.h"
#include "control.h"
#include "dkim.h"
#include "dns.h"
#include "fd.h"
#include "instance.h"
#include "mx.h"
#include "output.h"
#include "qmtp_client.h"
#include "routes.h"
#include "smtp.h"
#include "tcpto.h"
#include "tls.h"

namespace qng::remote {

namespace {

constexpr size_t kScanChunk = 65536;

// DNS is asked only when a lookup is needed (a relay or host given as an
// address needs none).
class LazyLookups : public Lookups {
 public:
  explicit LazyLookups(const Config& c) : config_(c) {}
  Result<std::vector<dns::Mx>> mx(std::string_view host) override {
    if (auto s = ready(); !s) return s.error();
    return resolver_->mx(host);
  }
  Result<std::vector<IpAddress>> addresses(std::string_view name) override {
    if (auto s = ready(); !s) return s.error();
    return resolver_->addresses(name);
  }

 private:
  Status ready() {
    if (resolver_) return {};
    dns::Options o;
    o.forwarders = config_.dnsservers;
    // Lookups are bounded by timeoutconnect: DNS is part of connecting.
    o.timeout_ms = static_cast<int>(config_.timeout_connect) * 1000;
    auto r = dns::Resolver::create(o);
    if (!r) return r.error();
    resolver_.emplace(std::move(*r));
    return {};
  }

  const Config& config_;
  std::optional<dns::Resolver> resolver_;
};

bool has_line_break(std::string_view s) {
  return s.find('\n') != std::string_view::npos || s.find('\r') != std::string_view::npos;
}

bool non_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

// Size and 8-bit content of the message on fd, read with pread so the
// offset stays where it is. Not a regular file: nothing known.
struct MessageInfo {
  std::optional<uint64_t> size;
  bool seekable = false;
  bool eightbit = false;
};

Result<MessageInfo> inspect_message(int fd) {
  MessageInfo m;
  struct stat st;
  if (::fstat(fd, &st) == -1) return Error::last("fstat");
  if (!S_ISREG(st.st_mode)) return m;
  m.size = static_cast<uint64_t>(st.st_size);
  m.seekable = true;
  char buf[kScanChunk];
  off_t off = 0;
  for (;;) {
    ssize_t r = ::pread(fd, buf, sizeof buf, off);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Error::last("read");
    }
    if (r == 0) break;
    if (has_8bit(std::string_view(buf, static_cast<size_t>(r)))) {
      m.eightbit = true;
      break;
    }
    off += r;
  }
  return m;
}

// A message on a pipe (qmail-remote run by hand; qmail-rspawn gives the
// queue file) is first copied to an unlinked temporary file in $TMPDIR or
// /tmp: the DKIM signer reads the message before it is sent, SIZE needs its
// size, and a second connection (after a failed TLS handshake) sends it
// again.
Result<Fd> spool_message(int in) {
  const char* t = ::getenv("TMPDIR");
  std::string path = (t && t[0] == '/') ? t : "/tmp";
  path += "/qmail-remote.XXXXXX";
  Fd fd(::mkstemp(path.data()));
  if (!fd) return Error::last("mkstemp");
  if (::unlink(path.c_str()) == -1) return Error::last("unlink");
  std::string buf(kScanChunk, '\0');
  for (;;) {
    auto n = read_some(in, buf.data(), buf.size());
    if (!n) return n.error();
    if (*n == 0) break;
    if (auto s = write_all(fd.get(), std::string_view(buf.data(), *n)); !s) return s.error();
  }
  return fd;
}

// The DKIM-Signature fields for the message (docs/dkim.md), or the
// message record when it cannot be signed. cwd is QMAILHOME, so the keys
// are control/dkim/DOMAIN/SELECTOR.key from here, wherever qmail-rspawn
// started us (queue/mess).
std::optional<std::string> dkim_fields(int fd, std::string_view sender, std::string& fields) {
  auto dk = dkim_sign_fd(".", fd, sender, ::time(nullptr));
  if (!dk) {
    // Temporary (an unusable key, i/o): the mail waits rather than leave
    // unsigned and fail DMARC. Permanent: a header past the signer's caps.
    if (dk.error().permanent()) return "D" + one_line(dk.error().message()) + ". (#5.3.4)\n";
    return "Z" + one_line(dk.error().message()) + ". (#4.3.0)\n";
  }
  fields = std::move(dk->headers);
  return std::nullopt;
}

uint64_t seed() {
  std::random_device rd;
  auto now = std::chrono::system_clock::now().time_since_epoch().count();
  return static_cast<uint64_t>(now) ^ (static_cast<uint64_t>(::getpid()) << 16) ^
         (static_cast<uint64_t>(rd()) << 32);
}

// The records for one delivery; a text returned is the message record.
std::string deliver_all(const std::vector<std::string>& args, Output& out) {
  if (args.size() < 4) return kUsage;
  if (::chdir(home_trusting_env().c_str()) == -1) return kChdir;

  Control control("control");
  std::string why;
  auto config = read_config(control, why);
  if (!config) return "Z" + why;

  // The route: control/qmtproutes first (QMTP), then qmail's smtproutes
  // lookup, each with our ":port" and "[ip]" forms. An empty qmtproutes
  // value is an exception, as in smtproutes: not routed by QMTP.
  std::string host = args[1];
  Relay relay;
  bool qmtp_route = false;
  if (auto q = config->qmtproutes.find(host); q && !q->empty()) {
    auto r = parse_relay(*q, kQmtpPort);
    if (!r)
      return "ZUnable to parse control/qmtproutes value " + safe(*q) + " for " + safe(host) +
             ". (#4.3.0)\n";
    relay = *r;
    qmtp_route = true;
  } else if (auto v = config->routes.find(host)) {
    auto r = parse_relay(*v);
    if (!r)
      return "ZUnable to parse control/smtproutes value " + safe(*v) + " for " + safe(host) +
             ". (#4.3.0)\n";
    relay = *r;
  }

  Delivery d;
  for (size_t i = 2; i < args.size(); ++i)
    if (has_line_break(args[i])) return kLineBreak;
  d.helohost = config->helohost;
  d.sender = smtp_address(args[2]);
  d.envelope_sender = args[2];
  d.needs_utf8 = non_ascii(args[2]);
  for (size_t i = 3; i < args.size(); ++i) {
    d.recipients.push_back(smtp_address(args[i]));
    d.envelope_recipients.push_back(args[i]);
    if (non_ascii(args[i])) d.needs_utf8 = true;
  }
  Fd spool;
  int message = 0;
  auto info = inspect_message(message);
  if (!info) return kReadMessage;
  if (!info->seekable) {
    auto f = spool_message(message);
    if (!f) return "ZUnable to copy the message to a temporary file: " +
                   one_line(f.error().message()) + ". (#4.3.0)\n";
    spool = std::move(*f);
    message = spool.get();
    info = inspect_message(message);
    if (!info || !info->seekable) return kReadMessage;
  }
  d.size = info->size;
  d.eightbit = info->eightbit;
  d.message_fd = message;

  // DKIM: the fields count in SIZE and go out first (Session::blast).
  if (auto failed = dkim_fields(message, args[2], d.prefix)) return *failed;
  if (d.size) {
    if (*d.size > UINT64_MAX - d.prefix.size()) return kReadMessage;
    *d.size += d.prefix.size();
  }
  d.relay = relay.host;
  d.timeout_ms = static_cast<int>(config->timeout_remote) * 1000;

  if (qmtp_route) {
    d.policy.level = TlsLevel::kNone;  // QMTP has no STARTTLS
  } else {
    auto policy = find_tls_policy(*config, host, relay.host, why);
    if (!policy) return "Z" + why;
    d.policy = *policy;
    if (!relay.host.empty()) {
      auto creds = read_credentials(control, relay.host, why);
      if (!creds) return "Z" + why;
      d.credentials = std::move(*creds);
    }
  }

  auto me = local_addresses();
  if (!me) return kOsErr;
  LazyLookups lookups(*config);
  Found found = find_targets(lookups, host, relay.host, *me, seed());
  switch (found.kind) {
    case Found::kOk: break;
    case Found::kTemp: return kTempDns;
    case Found::kNoHost: return perm_dns(relay.host.empty() ? host : relay.host);
    case Found::kNoAddress: return kNoMx;
    case Found::kNullMx: return null_mx(host);
    case Found::kSelf: return kSelfMx;
  }

  std::optional<TlsContext> tls;
  if (d.policy.level != TlsLevel::kNone) {
    auto t = TlsContext::create(d.policy.level == TlsLevel::kVerify, config->tlsca);
    if (!t) return "ZUnable to set up TLS: " + one_line(t.error().message()) + ". (#4.3.0)\n";
    tls.emplace(std::move(*t));
    d.tls = &*tls;
  }

  Tcpto tcpto;
  for (const Target& t : found.targets) {
    if (tcpto.dead(t.ip)) continue;
    auto source = source_for(config->outgoing, t.ip);
    auto bind_failed = [&](const Error& e) {
      return "ZUnable to bind to " + format_ip(*source) + " (control/outgoingip): " +
             one_line(e.message()) + ". (#4.3.0)\n";
    };
    // QMTP by qmtproutes, or by MXPS for an exchanger that advertises it
    // (then SMTP at the same address when QMTP cannot connect; only that
    // outcome goes into the timeout table).
    const bool mxps = !qmtp_route && relay.host.empty() && mxps_qmtp(t.pref);
    if (qmtp_route || mxps) {
      auto fd = timeout_connect(t.ip, qmtp_route ? relay.port : kQmtpPort,
                                config->timeout_connect, source);
      if (fd) {
        tcpto.record(t.ip, false);
        Channel ch(std::move(*fd), d.timeout_ms);
        deliver_qmtp(ch, d, t, out);
        return {};
      }
      if (fd.error().context() == "bind") return bind_failed(fd.error());
      if (qmtp_route) {
        tcpto.record(t.ip, fd.error().code() == ETIMEDOUT);
        continue;
      }
    }
    bool allow_tls = true;
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto fd = timeout_connect(t.ip, relay.port, config->timeout_connect, source);
      if (!fd) {
        if (fd.error().context() == "bind") return bind_failed(fd.error());
        tcpto.record(t.ip, fd.error().code() == ETIMEDOUT);
        break;
      }
      tcpto.record(t.ip, false);
      Channel ch(std::move(*fd), d.timeout_ms);
      if (deliver(ch, d, t, allow_tls, out) == Attempt::kDone) return {};
      allow_tls = false;  // "may": once more in plaintext
    }
  }
  return qmtp_route ? kNoQmtpConn : kNoConn;
}

}  // namespace

std::string smtp_address(std::string_view address) {
  // Decide on a copy whose UTF-8 bytes read as letters (RFC 6531 atext).
  std::string probe(address);
  size_t local = split_address(address).local.size();
  for (size_t i = 0; i < local; ++i)
    if (static_cast<unsigned char>(probe[i]) >= 0x80) probe[i] = 'a';
  if (quote_address(probe) == probe) return std::string(address);
  return quote_address(address);
}

std::string run(const std::vector<std::string>& args) {
  Output out;
  std::string text = deliver_all(args, out);
  if (!out.finished()) out.finish(text);
  return out.bytes();
}

}  // namespace qng::remote

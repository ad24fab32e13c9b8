// dns.cc: MX, A and AAAA lookups through libunbound (dns.h).
#include "dns.h"

#include <poll.h>
#include <sys/mman.h>
#include <unbound.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "fd.h"
#include "size.h"

namespace qng::dns {

namespace {

constexpr int kTypeA = 1;
constexpr int kTypeMx = 15;
constexpr int kTypeAaaa = 28;
constexpr int kClassIn = 1;
constexpr int kRcodeNxdomain = 3;

// One outstanding query; libunbound calls done() from ub_process().
struct Query {
  int type = 0;
  int id = 0;
  bool submitted = false;
  bool finished = false;
  int err = 0;
  ub_result* result = nullptr;

  ~Query() {
    if (result) ub_resolve_free(result);
  }
};

void done(void* arg, int err, ub_result* result) {
  auto* q = static_cast<Query*>(arg);
  q->finished = true;
  q->err = err;
  q->result = result;
}

using Clock = std::chrono::steady_clock;

// Cancels what was submitted and is not finished, so that no later
// ub_process() calls back into a Query that is gone.
void cancel_pending(ub_ctx* ctx, std::vector<Query*>& queries) {
  for (Query* q : queries)
    if (q->submitted && !q->finished) {
      (void)ub_cancel(ctx, q->id);
      q->submitted = false;
    }
}

// Runs the queries to completion or until timeout_ms pass (then cancels
// what is left: those stay unfinished).
Status run(ub_ctx* ctx, std::vector<Query*>& queries, const std::string& name, int timeout_ms) {
  for (Query* q : queries) {
    int r = ub_resolve_async(ctx, name.c_str(), q->type, kClassIn, q, done, &q->id);
    if (r != 0) {
      cancel_pending(ctx, queries);
      return Error::temp(std::string("DNS: ") + ub_strerror(r));
    }
    q->submitted = true;
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto all_done = [&] {
    for (Query* q : queries)
      if (!q->finished) return false;
    return true;
  };
  while (!all_done()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      cancel_pending(ctx, queries);
      return {};
    }
    pollfd p{ub_fd(ctx), POLLIN, 0};
    int pr = ::poll(&p, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno != EINTR) {
      Error e = Error::last("DNS: poll");
      cancel_pending(ctx, queries);
      return e;
    }
    if (pr > 0) {
      int r = ub_process(ctx);
      if (r != 0) {
        cancel_pending(ctx, queries);
        return Error::temp(std::string("DNS: ") + ub_strerror(r));
      }
    }
  }
  return {};
}

// How a finished (or unfinished) query ended.
enum class Outcome { kData, kNoData, kNxdomain, kTemp };

Outcome outcome(const Query& q, std::string& why) {
  if (!q.finished) {
    why = "DNS lookup timed out";
    return Outcome::kTemp;
  }
  if (q.err != 0 || !q.result) {
    why = std::string("DNS: ") + ub_strerror(q.err);
    return Outcome::kTemp;
  }
  const ub_result* r = q.result;
  if (r->bogus) {
    why = std::string("DNSSEC validation failed: ") + (r->why_bogus ? r->why_bogus : "bogus");
    return Outcome::kTemp;
  }
  if (r->rcode == kRcodeNxdomain || r->nxdomain) return Outcome::kNxdomain;
  if (r->rcode != 0) {
    why = "DNS server failure (rcode " + std::to_string(r->rcode) + ")";
    return Outcome::kTemp;
  }
  return r->havedata ? Outcome::kData : Outcome::kNoData;
}

// Feeds unbound.conf text to the context. (ub_ctx_set_option cannot do
// "local-zone: NAME nodefault": libunbound 1.17 keeps the whole value as
// the name.) The text goes through a memory file, never the disk.
Status load_config(ub_ctx* ctx, std::string_view text) {
  Fd fd(::memfd_create("qng-unbound", MFD_CLOEXEC));
  if (!fd) return Error::last("DNS: memfd_create");
  if (auto s = write_all(fd.get(), text); !s) return s.error();
  std::string path = "/proc/self/fd/" + std::to_string(fd.get());
  int e = ub_ctx_config(ctx, path.c_str());
  if (e != 0) return Error::temp(std::string("DNS: configuration: ") + ub_strerror(e));
  return {};
}

bool host_byte_ok(unsigned char c) { return c > 32 && c != 127 && c != '.' && c != '\\'; }

}  // namespace

bool lookup_name_ok(std::string_view name) {
  if (name.empty() || name.size() > kMaxName) return false;
  if (name.front() == '.') return false;
  size_t label = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!host_byte_ok(c)) return false;
    if (++label > 63) return false;
  }
  return true;
}

std::optional<Mx> decode_mx(std::string_view rdata) {
  if (rdata.size() < 3) return std::nullopt;
  auto b = [&](size_t i) { return static_cast<unsigned char>(rdata[i]); };
  Mx mx;
  mx.pref = (static_cast<unsigned>(b(0)) << 8) | b(1);
  size_t pos = 2;
  size_t wire = 0;  // wire length of the name so far
  for (;;) {
    if (pos >= rdata.size()) return std::nullopt;
    size_t len = b(pos);
    ++pos;
    ++wire;
    if (len == 0) break;
    if (len > 63) return std::nullopt;  // a compression pointer or junk
    if (len > rdata.size() - pos) return std::nullopt;
    wire += len;
    if (wire > 255) return std::nullopt;
    if (!mx.name.empty()) mx.name.push_back('.');
    for (size_t i = 0; i < len; ++i) {
      if (!host_byte_ok(b(pos + i))) return std::nullopt;
      mx.name.push_back(rdata[pos + i]);
    }
    pos += len;
  }
  if (pos != rdata.size()) return std::nullopt;
  return mx;
}

std::optional<std::string> parse_dns_server(std::string_view line) {
  std::string_view ip = line;
  std::string_view port;
  if (size_t at = line.rfind('@'); at != std::string_view::npos) {
    ip = line.substr(0, at);
    port = line.substr(at + 1);
    auto p = parse_decimal(port, 65535);
    if (!p || *p == 0) return std::nullopt;
  }
  if (!parse_ip(ip)) return std::nullopt;
  return std::string(line);
}

Result<Resolver> Resolver::create(const Options& options) {
  Resolver r;
  r.timeout_ms_ = options.timeout_ms > 0 ? options.timeout_ms : 60000;
  r.ctx_ = ub_ctx_create();
  if (!r.ctx_) return Error::temp("DNS: unable to create a resolver context", ENOMEM);
  auto fail = [](const char* what, int code) {
    return Error::temp(std::string("DNS: ") + what + ": " + ub_strerror(code));
  };
  int e = ub_ctx_async(r.ctx_, 1);
  if (e != 0) return fail("threads", e);
  // Servers on 127.0.0.1 (a local cache, a test's server) are normal.
  e = ub_ctx_set_option(r.ctx_, "do-not-query-localhost:", "no");
  if (e != 0) return fail("do-not-query-localhost", e);
  if (!options.forwarders.empty()) {
    // Servers chosen by the administrator answer for every name, the
    // testing names of RFC 6761 (.test) included, which libunbound would
    // otherwise answer itself with NXDOMAIN.
    if (auto s = load_config(r.ctx_, "server:\n  local-zone: \"test.\" nodefault\n"); !s)
      return s.error();
    for (const std::string& f : options.forwarders) {
      e = ub_ctx_set_fwd(r.ctx_, f.c_str());
      if (e != 0) return fail(("forwarder " + f).c_str(), e);
    }
  } else if (!options.resolv_conf.empty()) {
    // Unreadable or without servers: full recursion from the root.
    (void)ub_ctx_resolvconf(r.ctx_, options.resolv_conf.c_str());
  }
  if (!options.hosts.empty()) (void)ub_ctx_hosts(r.ctx_, options.hosts.c_str());
  return r;
}

Resolver::Resolver(Resolver&& o) noexcept : ctx_(o.ctx_), timeout_ms_(o.timeout_ms_) {
  o.ctx_ = nullptr;
}

Resolver& Resolver::operator=(Resolver&& o) noexcept {
  if (this != &o) {
    if (ctx_) ub_ctx_delete(ctx_);
    ctx_ = o.ctx_;
    timeout_ms_ = o.timeout_ms_;
    o.ctx_ = nullptr;
  }
  return *this;
}

Resolver::~Resolver() {
  if (ctx_) ub_ctx_delete(ctx_);
}

Result<std::vector<Mx>> Resolver::mx(std::string_view host) {
  if (!lookup_name_ok(host)) return Error::perm("bad host name", EINVAL);
  Query q;
  q.type = kTypeMx;
  std::vector<Query*> qs{&q};
  if (auto s = run(ctx_, qs, std::string(host), timeout_ms_); !s) return s.error();
  std::string why;
  switch (outcome(q, why)) {
    case Outcome::kNxdomain: return Error::perm("no such domain", ENOENT);
    case Outcome::kTemp: return Error::temp(why);
    case Outcome::kNoData: return std::vector<Mx>{};
    case Outcome::kData: break;
  }
  std::vector<Mx> out;
  for (size_t i = 0; q.result->data[i] && out.size() < kMaxMx; ++i) {
    if (q.result->len[i] < 0) continue;
    auto m = decode_mx(std::string_view(q.result->data[i], static_cast<size_t>(q.result->len[i])));
    if (m) out.push_back(std::move(*m));
  }
  return out;
}

Result<std::vector<IpAddress>> Resolver::addresses(std::string_view name) {
  if (!lookup_name_ok(name)) return Error::perm("bad host name", EINVAL);
  Query a, aaaa;
  a.type = kTypeA;
  aaaa.type = kTypeAaaa;
  std::vector<Query*> qs{&a, &aaaa};
  if (auto s = run(ctx_, qs, std::string(name), timeout_ms_); !s) return s.error();

  std::vector<IpAddress> out;
  std::string why;
  bool temp = false, nxdomain = false;
  for (Query* q : qs) {
    std::string w;
    switch (outcome(*q, w)) {
      case Outcome::kNxdomain: nxdomain = true; continue;
      case Outcome::kTemp: temp = true; why = w; continue;
      case Outcome::kNoData: continue;
      case Outcome::kData: break;
    }
    int family = q->type == kTypeA ? AF_INET : AF_INET6;
    size_t want = family == AF_INET ? 4 : 16;
    size_t taken = 0;
    for (size_t i = 0; q->result->data[i] && taken < kMaxAddresses; ++i) {
      if (q->result->len[i] < 0 || static_cast<size_t>(q->result->len[i]) != want) continue;
      IpAddress ip;
      ip.family = family;
      std::memcpy(ip.bytes.data(), q->result->data[i], want);
      out.push_back(ip);
      ++taken;
    }
  }
  if (!out.empty()) return out;
  if (temp) return Error::temp(why);
  if (nxdomain) return Error::perm("no such domain", ENOENT);
  return out;
}

}  // namespace qng::dns

// smtpd.cc: fuzz target for qmail-smtpd's session logic
// (src/bin/qmail-smtpd): command lines as a client sends them, run through
// the real MAIL and RCPT actions with the relay policy
// (src/lib/relaypolicy.h), AUTH PLAIN decoding, and DATA through the real
// DataReader, as a pipelining client would send it all at once. Replies go
// nowhere; the queue is never called.
//
// commands.cc's dispatcher is private to it, so the few lines that pick an
// action are repeated here (keep them alike). The first input byte sets
// databytes, RELAYCLIENT and how the DATA bytes are cut.
#include <string>
#include <vector>

#include "address.h"
#include "auth.h"
#include "common/fuzz.h"
#include "conn.h"
#include "control.h"
#include "data.h"
#include "fd.h"
#include "ip.h"
#include "received.h"
#include "relaypolicy.h"
#include "session.h"

namespace {

using namespace qng;
using namespace qng::smtpd;

// Replies are dropped; there is nothing to read (the target reads the
// input itself).
class NullTransport final : public Transport {
 public:
  Result<size_t> read(char*, size_t, int) override { return size_t{0}; }
  Status write(std::string_view, int) override { return {}; }
};

void write_control(const std::string& dir, const char* name, std::string_view text) {
  auto fd = open_write(dir + "/" + name, 0600);
  if (!fd || !write_all(fd->get(), text) || !fd->close()) std::abort();
}

// The instance: control files the policy reads, made once.
RelayPolicy& policy() {
  static RelayPolicy p = [] {
    std::string home = fuzz::scratch_dir() + "/smtpd";
    std::string control = home + "/control";
    if (::mkdir(home.c_str(), 0700) != 0 || ::mkdir(control.c_str(), 0700) != 0) std::abort();
    write_control(control, "me", "mx.example.org\n");
    write_control(control, "rcpthosts", "example.org\n.example.net\nmx.example.org\n");
    write_control(control, "badmailfrom", "bad@example.com\n@spam.example\n");
    write_control(control, "locals", "example.org\nmx.example.org\n");
    write_control(control, "virtualdomains", "example.net:joe\n");
    auto loaded = RelayPolicy::load(Control(control));
    if (!loaded) std::abort();
    RelayPolicy made = std::move(*loaded);
    made.set_local_ips({*parse_ip("127.0.0.1"), *parse_ip("::1")});
    return made;
  }();
  return p;
}

// Runs the DATA bytes at the front of `in` through the DataReader, fed in
// pieces; returns how much was consumed. A second reader fed the same bytes
// whole must agree.
size_t run_data(std::string_view in, std::string_view sizes, uint64_t databytes) {
  DataReader whole(databytes);
  std::string out_whole;
  size_t used_whole = whole.feed(in, out_whole);
  QNG_FUZZ_CHECK(used_whole <= in.size());
  QNG_FUZZ_CHECK(used_whole == in.size() || whole.done());

  DataReader cut(databytes);
  std::string out_cut;
  size_t used_cut = 0;
  fuzz::in_pieces(in, sizes, [&](std::string_view piece) {
    if (!cut.done()) used_cut += cut.feed(piece, out_cut);
  });
  QNG_FUZZ_CHECK(used_cut == used_whole);
  QNG_FUZZ_CHECK(out_cut == out_whole);
  QNG_FUZZ_CHECK(cut.done() == whole.done());
  if (whole.done()) {
    QNG_FUZZ_CHECK(whole.verdict() == cut.verdict());
    if (whole.verdict() == DataReader::Verdict::kOk) {
      QNG_FUZZ_CHECK(out_whole.find('\0') == std::string::npos);
      if (databytes) QNG_FUZZ_CHECK(out_whole.size() <= databytes);
    }
  }
  return used_whole;
}

bool is(std::string_view verb, std::string_view name) { return iequals(verb, name); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Cursor cur(fuzz::as_view(data, size));
  const uint8_t flags = cur.byte();
  std::string_view sizes = cur.until('\n').substr(0, 8);
  std::string_view in = cur.rest();

  Config cfg;
  cfg.home = fuzz::scratch_dir() + "/smtpd";
  cfg.remoteip = "192.0.2.7";
  cfg.remotehost = "client.example.com";
  cfg.localhost = "mx.example.org";
  cfg.greeting = "mx.example.org";
  cfg.databytes = (flags & 1) ? 200 : 0;
  cfg.maxrcpt = 5;
  cfg.rcptcheck = false;
  if (flags & 2) cfg.relayclient = "";
  cfg.authplaintext = true;

  Conn conn(std::make_unique<NullTransport>(), 60, 0);
  Session s(cfg, conn, policy());
  s.helo = cfg.remotehost;

  for (int n = 0; n < 200 && !in.empty(); ++n) {
    // Conn::read_line: up to LF; the LF and one CR before it go.
    size_t lf = in.find('\n');
    std::string_view line = in.substr(0, lf);
    in.remove_prefix(lf == std::string_view::npos ? in.size() : lf + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() > kMaxAuthLine) continue;

    // commands.cc's dispatch().
    if (line.find('\0') != std::string_view::npos) continue;
    size_t sp = line.find(' ');
    std::string_view verb = line.substr(0, sp);
    std::string_view arg;
    if (sp != std::string_view::npos) {
      arg = line.substr(sp);
      while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
    }
    if (line.size() > kMaxCommand && !is(verb, "auth")) continue;

    if (is(verb, "helo") || is(verb, "ehlo")) {
      s.helo = std::string(arg);
      s.ehlo = is(verb, "ehlo");
      s.reset_transaction();
      ReceivedInfo info;
      info.remotehost = cfg.remotehost;
      info.helo = s.helo;
      info.remoteip = cfg.remoteip;
      info.localhost = cfg.localhost;
      info.ehlo = s.ehlo;
      std::string rl = received_line(info);
      QNG_FUZZ_CHECK(rl.find('\0') == std::string::npos);
    } else if (is(verb, "mail")) {
      smtp_mail(s, arg);
      if (s.seenmail) QNG_FUZZ_CHECK(s.mailfrom.size() <= kMaxPath);
    } else if (is(verb, "rcpt")) {
      if (!s.seenmail) continue;
      size_t before = s.rcpts.size();
      smtp_rcpt(s, arg);
      QNG_FUZZ_CHECK(s.rcpts.size() <= cfg.maxrcpt);
      if (s.rcpts.size() > before) QNG_FUZZ_CHECK(!s.rcpts.back().empty());
    } else if (is(verb, "rset")) {
      s.reset_transaction();
    } else if (is(verb, "auth")) {
      // The PLAIN initial response: what smtp_auth decodes and splits
      // before it would run checkpassword.
      size_t sp2 = arg.find(' ');
      if (sp2 != std::string_view::npos && is(arg.substr(0, sp2), "plain")) {
        if (auto decoded = base64_decode(arg.substr(sp2 + 1))) (void)parse_plain(*decoded);
      }
    } else if (is(verb, "data")) {
      if (!s.seenmail || s.rcpts.empty()) continue;
      in.remove_prefix(run_data(in, sizes, cfg.databytes));
      s.reset_transaction();
    } else if (is(verb, "quit")) {
      break;
    }
  }
  return 0;
}

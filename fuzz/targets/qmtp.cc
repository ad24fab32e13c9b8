// qmtp.cc: fuzz target for src/lib/qmtp.h: QMTP packages and QMQP requests
// as qmail-qmtpd and qmail-qmqpd read them from the network, the K/Z/D
// replies qmail-qmqpc reads, CRLF -> LF, the hop count and
// control/qmqpservers lines. What the readers accept is built again and
// must read back the same.
#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "common/fuzz.h"
#include "io.h"
#include "qmtp.h"

namespace {

using namespace qng;

struct Parsed {
  LineEnds ends = LineEnds::kLf;
  std::string message;
  std::optional<std::string> sender;
  std::vector<std::optional<std::string>> recipients;
  bool operator==(const Parsed&) const = default;
};

std::optional<std::string> address_of(const WireAddress& a) {
  if (!a.acceptable) return std::nullopt;
  QNG_FUZZ_CHECK(a.address.size() < kMaxWireAddress);
  QNG_FUZZ_CHECK(a.address.find('\0') == std::string::npos);
  return a.address;
}

bool all_acceptable(const Parsed& p) {
  if (!p.sender) return false;
  for (const auto& r : p.recipients)
    if (!r) return false;
  return true;
}

std::vector<std::string> recipients_of(const Parsed& p) {
  std::vector<std::string> out;
  for (const auto& r : p.recipients) out.push_back(*r);
  return out;
}

// Reads the package's message, sender and recipients after begin().
template <class R>
bool read_rest(R& r, Parsed& p) {
  for (;;) {
    auto m = r.message();
    if (!m) return false;
    if (m->empty()) break;
    p.message.append(*m);
  }
  auto s = r.sender();
  if (!s) return false;
  p.sender = address_of(*s);
  for (;;) {
    auto rc = r.recipient();
    if (!rc) return false;
    if (!*rc) return true;
    p.recipients.push_back(address_of(**rc));
  }
}

std::vector<Parsed> read_qmtp(std::string_view bytes, size_t bufsize) {
  Fd fd = fuzz::memory_fd(bytes);
  Reader in(fd.get(), 0, bufsize);
  QmtpReader r(in);
  std::vector<Parsed> out;
  for (int i = 0; i < 16; ++i) {
    auto b = r.begin();
    if (!b || !*b) break;
    Parsed p;
    p.ends = r.line_ends();
    if (!read_rest(r, p)) break;
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<Parsed> read_qmqp(std::string_view bytes, size_t bufsize) {
  Fd fd = fuzz::memory_fd(bytes);
  Reader in(fd.get(), 0, bufsize);
  QmqpReader r(in);
  auto b = r.begin();
  if (!b || !*b) return std::nullopt;
  Parsed p;
  if (!read_rest(r, p)) return std::nullopt;
  QNG_FUZZ_CHECK(p.message.size() == r.message_length());
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Cursor cur(fuzz::as_view(data, size));
  const size_t bufsize = cur.byte() % 64 + 1;
  std::string_view sizes = cur.until('\n').substr(0, 8);
  std::string_view in = cur.rest();

  for (const Parsed& p : read_qmtp(in, bufsize)) {
    if (!all_acceptable(p) || p.message.find('\r') != std::string::npos) continue;
    auto again = read_qmtp(qmtp_package(p.message, *p.sender, recipients_of(p)), 7);
    Parsed lf = p;
    lf.ends = LineEnds::kLf;
    QNG_FUZZ_CHECK(again.size() == 1 && again[0] == lf);
  }
  if (auto p = read_qmqp(in, bufsize); p && all_acceptable(*p)) {
    auto again = read_qmqp(qmqp_request(p->message, *p->sender, recipients_of(*p)), 7);
    QNG_FUZZ_CHECK(again && *again == *p);
  }

  if (auto reply = parse_reply(in)) QNG_FUZZ_CHECK(reply->code == 'K' || reply->code == 'Z' || reply->code == 'D');
  {
    Fd fd = fuzz::memory_fd(in);
    Reader r(fd.get(), 0, bufsize);
    (void)read_reply(r, 100);
  }

  // CRLF -> LF gives the same bytes however the message is cut.
  std::string whole, cut;
  CrlfToLf a, b;
  a.feed(in, whole);
  a.finish(whole);
  fuzz::in_pieces(in, sizes, [&](std::string_view piece) { b.feed(piece, cut); });
  b.finish(cut);
  QNG_FUZZ_CHECK(whole == cut);
  QNG_FUZZ_CHECK(whole.size() <= in.size());

  HopCounter h1, h2;
  h1.feed(in);
  fuzz::in_pieces(in, sizes, [&](std::string_view piece) { h2.feed(piece); });
  QNG_FUZZ_CHECK(h1.hops() == h2.hops());

  fuzz::Cursor lines(in);
  for (int i = 0; i < 8 && !lines.empty(); ++i) (void)parse_server_address(lines.until('\n'));
  return 0;
}

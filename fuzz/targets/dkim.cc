// dkim.cc: fuzz target for src/lib/dkim.h's handling of message bytes:
// the header scan of DkimMessage (fields kept for h=, the From: domain that
// picks d=), relaxed header and body canonicalization, and the address
// parsers. The message is fed in pieces; the result must not depend on how
// it was cut.
#include <string>

#include "common/fuzz.h"
#include "dkim.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  fuzz::Cursor cur(fuzz::as_view(data, size));
  std::string_view sizes = cur.until('\n').substr(0, 8);
  std::string_view msg = cur.rest();

  DkimMessage whole;
  whole.feed(msg);
  whole.finish();
  DkimMessage cut;
  fuzz::in_pieces(msg, sizes, [&](std::string_view piece) { cut.feed(piece); });
  cut.finish();
  QNG_FUZZ_CHECK(whole.error().has_value() == cut.error().has_value());
  QNG_FUZZ_CHECK(whole.body_hash() == cut.body_hash());
  QNG_FUZZ_CHECK(whole.fields().size() == cut.fields().size());
  auto from = whole.from_domain();
  QNG_FUZZ_CHECK(from == cut.from_domain());
  if (from) QNG_FUZZ_CHECK(dkim::valid_domain(*from));
  auto names = whole.signed_names();
  QNG_FUZZ_CHECK(whole.canonical_headers(names) == cut.canonical_headers(names));

  dkim::BodyCanon a, b;
  std::string out_a, out_b;
  a.feed(msg, out_a);
  a.finish(out_a);
  fuzz::in_pieces(msg, sizes, [&](std::string_view piece) { b.feed(piece, out_b); });
  b.finish(out_b);
  QNG_FUZZ_CHECK(out_a == out_b);
  QNG_FUZZ_CHECK(out_a.empty() || out_a.ends_with("\r\n"));

  std::string_view line = msg.substr(0, msg.find('\n'));
  size_t colon = line.find(':');
  std::string_view name = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
  std::string h = dkim::relaxed_header(name, value);
  QNG_FUZZ_CHECK(h.ends_with("\r\n"));
  std::string v = dkim::relaxed_value(value);
  QNG_FUZZ_CHECK(dkim::relaxed_value(v) == v);  // canonical text is a fixed point
  if (auto d = dkim::address_domain(msg)) QNG_FUZZ_CHECK(dkim::valid_domain(*d));
  if (auto d = dkim::envelope_domain(line)) QNG_FUZZ_CHECK(dkim::valid_domain(*d));
  (void)dkim::valid_selector(line);
  (void)dkim::txt_strings(line);
  (void)dkim::base64(line);
  return 0;
}

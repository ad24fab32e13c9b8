// spawn.cc: fuzz target for src/lib/spawn.h's wire format: the command
// stream a spawn reads from qmail-send and the report stream qmail-send
// reads from a spawn (whose text comes from delivery programs). Both
// parsers must give the same result however the bytes are cut.
#include <string>
#include <vector>

#include "common/fuzz.h"
#include "spawn.h"

namespace {

bool same(const qng::SpawnCommand& a, const qng::SpawnCommand& b) {
  return a.slot == b.slot && a.message == b.message && a.sender == b.sender &&
         a.recipient == b.recipient;
}

bool same(const qng::SpawnReport& a, const qng::SpawnReport& b) {
  return a.slot == b.slot && a.letter == b.letter && a.text == b.text;
}

// Feeds the stream whole and in pieces; both ways must agree.
template <class Parser, class Item>
void check_parser(unsigned limit, std::string_view stream, std::string_view sizes) {
  Parser whole(limit);
  std::vector<Item> a;
  bool a_ok = static_cast<bool>(whole.feed(stream, a));

  Parser cut(limit);
  std::vector<Item> b;
  bool b_ok = true;
  qng::fuzz::in_pieces(stream, sizes, [&](std::string_view piece) {
    if (b_ok) b_ok = static_cast<bool>(cut.feed(piece, b));
  });
  QNG_FUZZ_CHECK(a_ok == b_ok);
  if (!a_ok) return;
  QNG_FUZZ_CHECK(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    QNG_FUZZ_CHECK(same(a[i], b[i]));
    QNG_FUZZ_CHECK(a[i].slot < limit);
  }
  QNG_FUZZ_CHECK(whole.at_boundary() == cut.at_boundary());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  fuzz::Cursor cur(fuzz::as_view(data, size));
  unsigned limit = cur.byte() % 4 == 0 ? 3 : kSpawnLimit;
  std::string_view sizes = cur.until('\n').substr(0, 8);
  std::string_view stream = cur.rest();

  check_parser<SpawnCommandParser, SpawnCommand>(limit, stream, sizes);
  check_parser<SpawnReportParser, SpawnReport>(limit, stream, sizes);

  // A report encoded by a spawn is read back as it was sent.
  std::string report = encode_spawn_report(limit - 1, stream);
  SpawnReportParser p(limit);
  std::vector<SpawnReport> got;
  if (p.feed(report, got)) {
    QNG_FUZZ_CHECK(got.size() == 1 && got[0].slot == limit - 1);
  }

  SpawnOutput out(cur.byte() == 'x' ? 40 : kSpawnTruncate);
  fuzz::in_pieces(stream, sizes, [&](std::string_view piece) { out.append(piece); });
  (void)out.text();
  (void)decode_spawn_banner(static_cast<unsigned char>(limit >> 8), static_cast<unsigned char>(limit));
  return 0;
}

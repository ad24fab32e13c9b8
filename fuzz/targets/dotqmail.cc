// dotqmail.cc: fuzz target for qmail-local's pure logic
// (src/bin/qmail-local/local.h): .qmail instruction lines, the .qmail file
// names an extension leads to, the envelope lines and variables made from
// the address, and the Delivered-To loop scan of a message header.
//
// Input: line 1 the extension, line 2 the host, line 3 the sender, line 4
// piece sizes; the rest is both a .qmail file and a message.
#include <string>

#include "common/fuzz.h"
#include "local.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  using namespace qng::local;
  fuzz::Cursor cur(fuzz::as_view(data, size));
  std::string_view ext = cur.until('\n');
  std::string_view host = cur.until('\n');
  std::string_view sender = cur.until('\n');
  std::string_view sizes = cur.until('\n').substr(0, 8);
  std::string_view text = cur.rest();

  auto lines = parse_instructions(text);
  QNG_FUZZ_CHECK(!lines.empty());
  for (const auto& i : lines) QNG_FUZZ_CHECK(i.arg.find('\0') == std::string::npos);

  std::string safe = safe_ext(ext);
  QNG_FUZZ_CHECK(safe.find('.') == std::string::npos);
  auto names = dotqmail_candidates("-", safe);
  QNG_FUZZ_CHECK(!names.empty());
  for (const auto& c : names) {
    QNG_FUZZ_CHECK(c.name.starts_with(".qmail-"));
    if (c.default_at) QNG_FUZZ_CHECK(*c.default_at <= ext.size());
  }
  for (int n = 1; n <= 4; ++n) {
    (void)ext_part(ext, n);
    (void)host_part(host, n);
  }
  (void)owner_rules_apply(sender);
  (void)new_sender(sender, ext, host, sender.size() % 2, sender.size() % 3);

  std::string rp = return_path_line(sender);
  QNG_FUZZ_CHECK(rp.ends_with("\n") && rp.find('\n') == rp.size() - 1);
  std::string dt = delivered_to_line(ext, host);
  QNG_FUZZ_CHECK(dt.ends_with("\n") && dt.find('\n') == dt.size() - 1);

  Args a;
  a.user = "joe";
  a.homedir = "/home/joe";
  a.local = std::string(ext);
  a.dash = "-";
  a.ext = std::string(ext);
  a.host = std::string(host);
  a.sender = std::string(sender);
  EnvelopeLines env = envelope_lines(a, 1700000000);
  (void)delivery_env(a, env, std::string(sender), std::string(ext));

  // The loop scan gives one verdict however the message arrives.
  LoopScanner whole(dt), cut(dt);
  LoopScanner::State w = whole.feed(text);
  LoopScanner::State c = LoopScanner::State::kMore;
  fuzz::in_pieces(text, sizes, [&](std::string_view piece) { c = cut.feed(piece); });
  QNG_FUZZ_CHECK(w == c);
  return 0;
}

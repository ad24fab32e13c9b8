// stats.cc: fuzz target for qmail-stats (src/bin/qmail-stats): qmail-send
// log lines (whose texts quote senders, recipients and remote servers'
// replies) through the stamp and event parsers, the matchup, and both
// reports; the HTML one goes to a browser.
//
// Input: a flags byte (small caps, a time window), then log lines.
#include <string>

#include "common/fuzz.h"
#include "logline.h"
#include "matchup.h"
#include "report.h"
#include "run.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  using namespace qng::stats;
  fuzz::Cursor cur(fuzz::as_view(data, size));
  const uint8_t flags = cur.byte();

  Limits limits;
  if (flags & 1) {
    limits.max_messages = 3;
    limits.max_deliveries = 3;
    limits.max_keys = 2;
    limits.max_samples = 4;
    limits.max_stored_text = 8;
  }
  Window window;
  if (flags & 2) window.since = int64_t{1'700'000'000'000'000};
  if (flags & 4) window.until = int64_t{1'700'000'100'000'000};

  Matchup m(limits, window);
  std::string_view text = cur.rest();
  fuzz::Cursor lines(text);
  for (int n = 0; n < 2000 && !lines.empty(); ++n) {
    std::string_view line = lines.until('\n');
    StampedLine st = split_stamp(line);
    Event e = parse_event(st.text);
    (void)e;
    (void)reason_of(st.text);
    (void)domain_of(st.text);
    (void)parse_time(line);
    m.feed(line, (flags & 8) && n % 7 == 0);
  }
  m.finish();

  ReportOptions opt;
  opt.top = (flags & 16) ? 2 : 50;
  opt.window = window;
  opt.limits = limits;
  std::string t = text_report(m.stats(), opt);
  QNG_FUZZ_CHECK(!t.empty());
  std::string h = html_report(m.stats(), opt);
  QNG_FUZZ_CHECK(h.find("<script") == std::string::npos);
  return 0;
}

// stats_test.cc: qmail-stats's parser (stamps, events, reasons), matchup
// (restarts, windows, caps) and reports, the text one against golden files
// in data/: NAME.log in, NAME.txt out. QNG_UPDATE_GOLDEN=1 rewrites them.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "../../../src/bin/qmail-stats/chart.h"
#include "../../../src/bin/qmail-stats/logline.h"
#include "../../../src/bin/qmail-stats/matchup.h"
#include "../../../src/bin/qmail-stats/report.h"
#include "../../../src/bin/qmail-stats/run.h"
#include "fd.h"

namespace qng::stats {
namespace {

std::string data_dir() {
  return (std::filesystem::path(__FILE__).parent_path() / "data").string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Stats analyse(const std::string& text, const Limits& limits = {}, const Window& window = {}) {
  Matchup m(limits, window);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) m.feed(line);
  m.finish();
  return m.stats();
}

Stats analyse_file(const std::string& name, const Window& window = {}) {
  auto fd = open_read(data_dir() + "/" + name);
  EXPECT_TRUE(fd.ok());
  Matchup m(Limits{}, window);
  EXPECT_TRUE(feed_fd(fd->get(), m).ok());
  m.finish();
  return m.stats();
}

uint64_t successes(const Stats& s) { return s.channel[0].success + s.channel[1].success; }
uint64_t failures(const Stats& s) { return s.channel[0].failure + s.channel[1].failure; }
uint64_t deferrals(const Stats& s) { return s.channel[0].deferral + s.channel[1].deferral; }

// 2023-11-14 22:13:20 UTC.
constexpr int64_t kBase = 1'700'000'000'000'000;

TEST(Stamp, Split) {
  struct C {
    const char* line;
    StampKind kind;
    int64_t usec;
    bool continuation;
    const char* text;
  };
  const C cases[] = {
      {"@400000006553f10a00000000 new msg 1", StampKind::kTai64n, kBase, false, "new msg 1"},
      {"@400000006553f10a3b9ac9ff end msg 1", StampKind::kTai64n, kBase + 999'999, false,
       "end msg 1"},
      {"@400000006553F10A00989680 x", StampKind::kTai64n, kBase + 10'000, false, "x"},
      {"@400000006553f10a", StampKind::kTai64n, kBase, false, ""},  // TAI64, no text
      {"@400000006553f10a3b9aca00 x", StampKind::kNone, 0, false,   // nanos >= 10^9
       "@400000006553f10a3b9aca00 x"},
      {"@400000006553f10g00000000 x", StampKind::kNone, 0, false, "@400000006553f10g00000000 x"},
      {"@4000 x", StampKind::kNone, 0, false, "@4000 x"},
      {"@3fffffffffffffff00000000 x", StampKind::kNone, 0, false,   // before 1970
       "@3fffffffffffffff00000000 x"},
      {"1700000000.123456 status: exiting", StampKind::kUnix, kBase + 123'456, false,
       "status: exiting"},
      {"1700000000.5 x", StampKind::kUnix, kBase + 500'000, false, "x"},
      {"1700000000 x", StampKind::kUnix, kBase, false, "x"},
      {"1700000000.123456789 x", StampKind::kUnix, kBase + 123'456, false, "x"},
      {"1700000000.123456+tail", StampKind::kUnix, kBase + 123'456, true, "tail"},
      {"1700000000. x", StampKind::kNone, 0, false, "1700000000. x"},
      {"17000x0000.1 x", StampKind::kNone, 0, false, "17000x0000.1 x"},
      {"Nov 14 22:13:20 mx qmail: 1700000000.000001 new msg 5", StampKind::kUnix, kBase + 1,
       false, "new msg 5"},
      {"status: local 0/10 remote 0/20", StampKind::kNone, 0, false,
       "status: local 0/10 remote 0/20"},
      {"delivery 5: failure: 1700000000.1_x", StampKind::kNone, 0, false,
       "delivery 5: failure: 1700000000.1_x"},
      {"", StampKind::kNone, 0, false, ""},
  };
  for (const C& c : cases) {
    StampedLine s = split_stamp(c.line);
    EXPECT_EQ(s.kind, c.kind) << c.line;
    if (c.kind != StampKind::kNone) {
      EXPECT_EQ(s.usec, c.usec) << c.line;
    }
    EXPECT_EQ(s.continuation, c.continuation) << c.line;
    EXPECT_EQ(s.text, c.text) << c.line;
  }
}

TEST(Event, Parse) {
  Event e = parse_event("status: local 3/10 remote 17/20 exitasap");
  EXPECT_EQ(e.type, EventType::kStatus);
  EXPECT_EQ(e.local_used, 3u);
  EXPECT_EQ(e.local_max, 10u);
  EXPECT_EQ(e.remote_used, 17u);
  EXPECT_EQ(e.remote_max, 20u);

  e = parse_event("info msg 1837402: bytes 2713 from <a> qp b@c> qp 4242 uid 1000");
  ASSERT_EQ(e.type, EventType::kInfoMsg);
  EXPECT_EQ(e.msg, 1837402u);
  EXPECT_EQ(e.bytes, 2713u);
  EXPECT_EQ(e.sender, "a> qp b@c");  // the last "> qp " ends the sender
  EXPECT_EQ(e.qp, 4242u);
  EXPECT_EQ(e.uid, 1000u);

  e = parse_event("info msg 7: bytes 1 from <> qp 2 uid 3");
  ASSERT_EQ(e.type, EventType::kInfoMsg);
  EXPECT_EQ(e.sender, "");

  e = parse_event("starting delivery 12: msg 345 to remote Bob@Example.org");
  ASSERT_EQ(e.type, EventType::kStart);
  EXPECT_EQ(e.delivery, 12u);
  EXPECT_EQ(e.msg, 345u);
  EXPECT_TRUE(e.remote);
  EXPECT_EQ(e.recipient, "Bob@Example.org");

  e = parse_event("delivery 12: deferral: Sorry,_try_later./");
  ASSERT_EQ(e.type, EventType::kDelivery);
  EXPECT_EQ(e.outcome, Outcome::kDeferral);
  EXPECT_EQ(e.text, "Sorry,_try_later./");

  e = parse_event("delivery 4: report mangled, will defer");
  ASSERT_EQ(e.type, EventType::kDelivery);
  EXPECT_EQ(e.outcome, Outcome::kDeferral);
  EXPECT_TRUE(e.mangled);

  e = parse_event("delivery 4: success:");
  ASSERT_EQ(e.type, EventType::kDelivery);
  EXPECT_EQ(e.text, "");

  e = parse_event("bounce msg 77 qp 78");
  ASSERT_EQ(e.type, EventType::kBounce);
  EXPECT_EQ(e.msg, 77u);
  EXPECT_EQ(e.qp, 78u);

  e = parse_event("triple bounce: discarding bounce/99");
  ASSERT_EQ(e.type, EventType::kTripleBounce);
  EXPECT_EQ(e.msg, 99u);

  e = parse_event("warning: trouble opening local/1/2; will try again later");
  ASSERT_EQ(e.type, EventType::kWarning);
  EXPECT_EQ(e.text, "trouble opening local/1/2; will try again later");

  struct C {
    const char* line;
    EventType type;
  };
  const C cases[] = {
      {"status: exiting", EventType::kExiting},
      {"status: local 0/10 remote 0/20", EventType::kStatus},
      {"status: local 0/10", EventType::kOther},
      {"status: local 0/10 remote 0/20 extra", EventType::kOther},
      {"status: local x/10 remote 0/20", EventType::kOther},
      {"new msg 5", EventType::kNewMsg},
      {"new msg 5x", EventType::kOther},
      {"new msg ", EventType::kOther},
      {"new msg 99999999999999999999999", EventType::kOther},
      {"info msg 5: bytes 1 from <a@b> qp 2", EventType::kOther},
      {"info msg 5: bytes x from <a@b> qp 2 uid 3", EventType::kOther},
      {"starting delivery 1: msg 5 to local a@b", EventType::kStart},
      {"starting delivery 1: msg 5 to elsewhere a@b", EventType::kOther},
      {"starting delivery 1 msg 5 to local a@b", EventType::kOther},
      {"delivery 1: success: did_1+0+0/", EventType::kDelivery},
      {"delivery 1: failure: x", EventType::kDelivery},
      {"delivery 1: successful: x", EventType::kOther},
      {"delivery 1: maybe: x", EventType::kOther},
      {"delivery x: success: x", EventType::kOther},
      {"bounce msg 5 qp", EventType::kOther},
      {"end msg 5", EventType::kEndMsg},
      {"end msg -5", EventType::kOther},
      {"alert: oh no! lost spawn connection! dying...", EventType::kAlert},
      {"qmail-send: something", EventType::kOther},
      {"", EventType::kOther},
  };
  for (const C& c : cases) EXPECT_EQ(parse_event(c.line).type, c.type) << c.line;
}

TEST(Reason, Of) {
  struct C {
    const char* report;
    const char* want;
  };
  const C cases[] = {
      {"Sorry,_no_mailbox_here_by_that_name._(#5.1.1)/", "Sorry,_no_mailbox_here_by_that_name._(#5.1.1)"},
      {"Temporary_failure._(#4.3.0)/more/", "Temporary_failure._(#4.3.0)"},
      {"Code_first_#5.7.1_then_more_text/", "Code_first_#5.7.1"},
      {"No_code_#5.x.1_here/and_more", "No_code_#5.x.1_here"},
      {"1.2.3.4_does_not_like_recipient./Remote_host_said:_550_5.1.1_no/", "1.2.3.4_does_not_like_recipient."},
      {"after_slash/(#5.1.1)", "after_slash"},
      {"did_0+1+0/", "did_0+1+0"},
      {"no_slash_at_all", "no_slash_at_all"},
      {"/", ""},
      {"", ""},
      {"#", "#"},
      {"(#12.345.6789)tail", "(#12.345.6789)"},
  };
  for (const C& c : cases) EXPECT_EQ(reason_of(c.report), c.want) << c.report;
}

TEST(Reason, Domain) {
  EXPECT_EQ(domain_of("Bob@Example.ORG"), "example.org");
  EXPECT_EQ(domain_of("a@b@c.d"), "c.d");
  EXPECT_EQ(domain_of("nodomain"), "nodomain");
  EXPECT_EQ(domain_of("x@"), "");
}

TEST(Args, Time) {
  struct C {
    const char* in;
    std::optional<int64_t> want;
  };
  const C cases[] = {
      {"1700000000", kBase},
      {"1700000000.25", kBase + 250'000},
      {"@400000006553f10a00000000", kBase},
      {"2023-11-14 22:13:20", kBase},
      {"2023-11-14T22:13:20Z", kBase},
      {"2023-11-14 22:13", kBase - 20'000'000},
      {"2023-11-14", kBase - (22 * 3600 + 13 * 60 + 20) * int64_t{1'000'000}},
      {"2023-13-14", std::nullopt},
      {"2023-11-14 25:00", std::nullopt},
      {"2023-11-14 22:13:2", std::nullopt},
      {"2023/11/14", std::nullopt},
      {"yesterday", std::nullopt},
      {"", std::nullopt},
      {"-5", std::nullopt},
  };
  for (const C& c : cases) EXPECT_EQ(parse_time(c.in), c.want) << c.in;
}

TEST(Args, Parse) {
  auto o = parse_args({"--html", "--since", "1700000000", "--until=2023-11-15", "--top", "5", "a",
                       "-", "--", "--html"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->html);
  EXPECT_EQ(o->window.since, kBase);
  EXPECT_TRUE(o->window.until.has_value());
  EXPECT_EQ(o->top, 5u);
  EXPECT_EQ(o->files, (std::vector<std::string>{"a", "-", "--html"}));
  EXPECT_TRUE(parse_args({"--help"})->help);
  EXPECT_FALSE(parse_args({}).value().html);
  for (auto bad : std::vector<std::vector<std::string_view>>{
           {"--since"}, {"--since", "never"}, {"--top", "x"}, {"--bogus"}, {"--html=1"}})
    EXPECT_FALSE(parse_args(bad).ok()) << bad[0];
}

TEST(Matchup, SampleCounts) {
  Stats s = analyse_file("sample.log");
  EXPECT_EQ(s.msgs_new, 9u);
  EXPECT_EQ(s.msgs_done, 8u);
  EXPECT_EQ(s.done_bytes, 14700u);
  EXPECT_EQ(s.done_recipients, 9u);
  EXPECT_EQ(s.done_attempts, 11u);
  EXPECT_EQ(successes(s), 7u);
  EXPECT_EQ(failures(s), 3u);
  EXPECT_EQ(deferrals(s), 2u);
  EXPECT_EQ(s.channel[0].total(), 7u);
  EXPECT_EQ(s.channel[1].total(), 5u);
  EXPECT_EQ(s.bounces, 2u);
  EXPECT_EQ(s.triple_bounces, 1u);
  EXPECT_EQ(s.exits, 2u);
  EXPECT_EQ(s.restarts, 1u);
  EXPECT_EQ(s.abandoned, 1u);
  EXPECT_EQ(s.unmatched_results, 1u);
  EXPECT_EQ(s.open_msgs, 1u);
  EXPECT_EQ(s.open_deliveries, 1u);
  // ddelays: 0.13 0.25 0.60 2.52 200.40 3581.50 s.
  EXPECT_EQ(s.ddelay.count(), 6u);
  EXPECT_EQ(s.ddelay.total(), 3'785'400'000);
  EXPECT_EQ(s.ddelay.median(), 1'560'000);
}

// Delivery numbers restart at 1: a result must match the start of its own
// run, never a start left open by the run before.
TEST(Matchup, Restarts) {
  const std::string log =
      "new msg 10\n"
      "info msg 10: bytes 100 from <a@x> qp 1 uid 1\n"
      "starting delivery 1: msg 10 to local a@x\n"
      "starting delivery 2: msg 10 to remote b@y\n"
      // qmail-send killed: no results, no status: exiting. It starts again.
      "status: local 0/10 remote 0/20\n"
      "starting delivery 1: msg 10 to remote b@y\n"
      "delivery 1: success: ok/\n"
      "starting delivery 2: msg 10 to local a@x\n"
      "delivery 2: failure: gone_(#5.1.1)/\n"
      "end msg 10\n"
      "status: exiting\n"
      // The next run ends with a delivery open: status: exiting drops it.
      "new msg 11\n"
      "starting delivery 1: msg 11 to local c@x\n"
      "status: exiting\n"
      "starting delivery 1: msg 11 to remote c@z\n"
      "delivery 1: deferral: later/\n";
  Stats s = analyse(log);
  EXPECT_EQ(s.abandoned, 3u);  // 2 by the status line, 1 by status: exiting
  EXPECT_EQ(s.exits, 2u);
  EXPECT_EQ(s.restarts, 1u);   // the crash; status: exiting announces the others
  EXPECT_EQ(s.channel[1].success, 1u);
  EXPECT_EQ(s.channel[0].failure, 1u);
  EXPECT_EQ(s.channel[0].success, 0u);
  EXPECT_EQ(s.channel[1].deferral, 1u);
  EXPECT_EQ(s.recipients.rows().at("b@y").counts.success, 1u);
  EXPECT_EQ(s.recipients.rows().at("c@z").counts.deferral, 1u);
  EXPECT_EQ(s.recipients.rows().count("c@x"), 0u);
  EXPECT_EQ(s.done_recipients, 2u);

  // A crash between two starts: the second "starting delivery 1".
  Stats c = analyse(
      "starting delivery 1: msg 1 to local a@x\n"
      "starting delivery 2: msg 1 to local a@x\n"
      "starting delivery 1: msg 1 to local b@x\n"
      "delivery 2: success: stale/\n"
      "delivery 1: success: ok/\n");
  EXPECT_EQ(c.restarts, 1u);
  EXPECT_EQ(c.abandoned, 2u);
  EXPECT_EQ(c.unmatched_results, 1u);
  EXPECT_EQ(c.recipients.rows().at("b@x").counts.success, 1u);
  EXPECT_EQ(c.starts_unknown_msg, 3u);

  // A status line with fewer deliveries than are open drops the oldest.
  Stats d = analyse(
      "starting delivery 5: msg 1 to remote a@x\n"
      "starting delivery 6: msg 1 to remote b@x\n"
      "starting delivery 7: msg 1 to local c@x\n"
      "status: local 1/10 remote 1/20\n"
      "delivery 5: success: lost/\n"
      "delivery 6: success: ok/\n"
      "delivery 7: success: ok/\n");
  EXPECT_EQ(d.abandoned, 1u);
  EXPECT_EQ(d.unmatched_results, 1u);
  EXPECT_EQ(d.channel[1].success, 1u);
  EXPECT_EQ(d.channel[0].success, 1u);
}

TEST(Matchup, Window) {
  Window w;
  w.since = kBase + 3600 * int64_t{1'000'000};  // the second run only
  Stats s = analyse_file("sample.log", w);
  EXPECT_EQ(s.lines_before, 45u);
  EXPECT_EQ(s.lines_unstamped_skipped, 1u);
  EXPECT_EQ(successes(s), 3u);
  EXPECT_EQ(failures(s), 2u);
  EXPECT_EQ(deferrals(s), 1u);
  EXPECT_EQ(s.msgs_new, 4u);     // 1006, 1007, 1008, 1009
  EXPECT_EQ(s.msgs_done, 4u);    // 1004 (born before --since), 1006, 1007, 1008
  // 1004 was born in the first run: its ddelay still counts from its birth.
  EXPECT_EQ(s.ddelay.count(), 2u);
  EXPECT_EQ(s.ddelay.total(), 3'581'500'000 + 200'400'000);

  Window u;
  u.until = kBase + 3600 * int64_t{1'000'000};  // the first run only
  Stats f = analyse_file("sample.log", u);
  EXPECT_EQ(f.lines_after, 48u);  // and splogger's folded tail, which is never counted
  EXPECT_EQ(successes(f), 4u);
  EXPECT_EQ(failures(f), 1u);
  EXPECT_EQ(deferrals(f), 1u);
  EXPECT_EQ(f.open_msgs, 1u);  // 1004, deferred
}

TEST(Matchup, Caps) {
  Limits l;
  l.max_messages = 2;
  l.max_keys = 2;
  l.max_samples = 3;
  std::string log;
  for (int i = 1; i <= 4; ++i) log += "new msg " + std::to_string(i) + "\n";
  for (int i = 1; i <= 4; ++i) {
    std::string n = std::to_string(i);
    log += "starting delivery " + n + ": msg " + n + " to local u" + n + "@d" + n + "\n";
    log += "delivery " + n + ": success: ok/\n";
  }
  for (int i = 1; i <= 4; ++i) log += "end msg " + std::to_string(i) + "\n";
  Stats s = analyse(log, l);
  EXPECT_EQ(s.msgs_untracked, 2u);
  EXPECT_EQ(s.msgs_done, 2u);
  EXPECT_EQ(s.msgs_done_unknown, 2u);
  EXPECT_EQ(s.domains.rows().size(), 2u);
  EXPECT_TRUE(s.domains.overflowed());
  EXPECT_EQ(s.domains.other().counts.success, 2u);

  ReportOptions opt;
  opt.limits = l;
  std::string text = text_report(s, opt);
  EXPECT_NE(text.find("State cap exceeded: more than 2 messages in flight"), std::string::npos);
  EXPECT_NE(text.find("(other)"), std::string::npos);
  EXPECT_NE(text.find("More than 2 distinct keys"), std::string::npos);
}

TEST(Delays, Median) {
  Delays d(100);
  EXPECT_FALSE(d.median().has_value());
  for (int64_t v : {5, 1, 3}) d.add(v * 1'000'000);
  EXPECT_EQ(d.median(), 3'000'000);
  d.add(10'000'000);
  EXPECT_EQ(d.median(), 4'000'000);
  EXPECT_TRUE(d.exact());

  Delays b(10);  // binned past 10 samples: within 0.5%
  for (int i = 1; i <= 101; ++i) b.add(i * int64_t{1'000'000});
  EXPECT_FALSE(b.exact());
  ASSERT_TRUE(b.median().has_value());
  EXPECT_NEAR(static_cast<double>(*b.median()), 51e6, 51e6 * 0.005);
  EXPECT_EQ(b.count(), 101u);
  EXPECT_EQ(b.total(), 5151 * int64_t{1'000'000});
}

TEST(Input, LongLinesAndNoNewline) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  Fd r(p[0]), w(p[1]);
  std::string data = "new msg 1\n" + std::string(kMaxLine + 5000, 'x') + "\nnew msg 2\nend msg 1";
  std::thread writer([&] {
    (void)write_all(w.get(), data);
    w.reset();
  });
  Matchup m(Limits{}, Window{});
  Status st = feed_fd(r.get(), m);
  writer.join();
  ASSERT_TRUE(st.ok());
  m.finish();
  EXPECT_EQ(m.stats().lines, 4u);
  EXPECT_EQ(m.stats().lines_truncated, 1u);
  EXPECT_EQ(m.stats().msgs_new, 2u);
  EXPECT_EQ(m.stats().msgs_done, 1u);
}

void expect_golden(const std::string& name, const std::string& got) {
  const std::string path = data_dir() + "/" + name;
  if (std::getenv("QNG_UPDATE_GOLDEN")) {
    std::ofstream(path, std::ios::binary) << got;
    return;
  }
  EXPECT_EQ(got, slurp(path)) << "golden " << path;
}

TEST(Report, GoldenText) {
  for (const char* name : {"sample", "unstamped"}) {
    Stats s = analyse_file(std::string(name) + ".log");
    expect_golden(std::string(name) + ".txt", text_report(s, ReportOptions{}));
  }
}

TEST(Report, TopRows) {
  Stats s = analyse_file("sample.log");
  ReportOptions opt;
  opt.top = 2;
  std::string text = text_report(s, opt);
  EXPECT_NE(text.find("6 more rows not shown"), std::string::npos);  // 8 recipients
}

TEST(Report, HtmlSelfContained) {
  std::string log =
      "1700000000.0 new msg 1\n"
      "1700000000.0 info msg 1: bytes 10 from <evil<script>alert(1)</script>@x> qp 1 uid 1\n"
      "1700000000.1 starting delivery 1: msg 1 to remote a\"b'<c>@example.com\n"
      "1700000001.0 delivery 1: failure: <img_src=x>_\x1b[31m_(#5.0.0)/\n"
      "1700000001.0 end msg 1\n";
  Stats s = analyse(log);
  std::string html = html_report(s, ReportOptions{});
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);  // no external URL at all
  EXPECT_EQ(html.find("src="), html.find("&lt;img_src=x&gt;") + 8);
  EXPECT_EQ(html.find('\x1b'), std::string::npos);
  EXPECT_NE(html.find("evil&lt;script&gt;alert(1)&lt;/script&gt;@x"), std::string::npos);
  EXPECT_NE(html.find("a&quot;b&#39;&lt;c&gt;@example.com"), std::string::npos);
  size_t svgs = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++svgs;
  EXPECT_EQ(svgs, 4u);
  EXPECT_NE(html.find("<rect"), std::string::npos);
  for (const char* id : {"id=\"failures\"", "id=\"senders\"", "id=\"domains\"", "id=\"chart-hourly\""})
    EXPECT_NE(html.find(id), std::string::npos) << id;
  EXPECT_EQ(html.substr(html.size() - 8), "</html>\n");

  // The text report shows control bytes as '?'.
  std::string text = text_report(s, ReportOptions{});
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("<img_src=x>_?[31m_(#5.0.0)"), std::string::npos);
}

TEST(Chart, NiceStep) {
  struct C {
    uint64_t max, ticks, want;
  };
  const C cases[] = {{0, 5, 1},   {1, 5, 1},     {5, 5, 1},        {6, 5, 2},
                     {11, 5, 5},  {26, 5, 10},   {1000, 5, 200},   {1001, 5, 500},
                     {7, 0, 10},  {UINT64_MAX, 5, 5'000'000'000'000'000'000u}};
  for (const C& c : cases) EXPECT_EQ(nice_step(c.max, c.ticks), c.want) << c.max;
}

TEST(Chart, EmptyData) {
  Stats s = analyse("");
  std::string html = html_report(s, ReportOptions{});
  EXPECT_NE(html.find("no data"), std::string::npos);
  std::string text = text_report(s, ReportOptions{});
  EXPECT_NE(text.find("Period: unknown"), std::string::npos);
}

}  // namespace
}  // namespace qng::stats

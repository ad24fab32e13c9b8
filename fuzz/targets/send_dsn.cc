// send_dsn.cc: fuzz target for qmail-send's bounce texts
// (src/bin/qmail-send/bounce_text.h, dsn_text.h): a failed recipient's
// report comes from a delivery program or a remote SMTP server, and
// becomes a QSBMF paragraph of bounce/N and a part of an RFC 3464 DSN.
//
// Input: line 1 the recipient, the rest the report; the whole input is also
// taken as the contents of a bounce/N file.
#include <string>

#include "bounce_text.h"
#include "common/fuzz.h"
#include "dsn_text.h"

namespace {

using namespace qng::send;

// Every line of `text` fits RFC 5322's limit.
bool lines_fit(std::string_view text) {
  while (!text.empty()) {
    size_t lf = text.find('\n');
    if ((lf == std::string_view::npos ? text.size() : lf) > kDsnLineMax) return false;
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  std::string_view all = fuzz::as_view(data, size);
  fuzz::Cursor cur(all);
  std::string_view recipient = cur.until('\n');
  std::string_view report = cur.rest();

  BounceHead head;
  head.date = 1709457002;
  head.bouncefrom = "MAILER-DAEMON";
  head.bouncehost = "mx.example.org";
  head.recipient = "alice@example.com";
  head.return_path = "alice@example.com";
  head.double_bounce = size % 2;
  DsnHead dsn;
  dsn.me = "mx.example.org";
  dsn.message_id = "<1709457002.4242.1234.qmail-send@mx.example.org>";
  dsn.boundary = "=_qmail-send_test";
  dsn.arrival = 1709456998;

  DsnRecipient r = dsn_recipient(recipient, report);
  QNG_FUZZ_CHECK(r.status.cls == 4 || r.status.cls == 5);
  QNG_FUZZ_CHECK(r.diagnostic.find('\n') == std::string::npos);

  // A paragraph of bounce/N splits back into its recipient and report.
  std::string para = bounce_paragraph(recipient, report);
  QNG_FUZZ_CHECK(para.ends_with("\n\n"));
  auto split = split_paragraph(std::string_view(para).substr(0, para.size() - 1));
  QNG_FUZZ_CHECK(split.has_value());

  const std::string message = "Subject: hi\n\nbody\n";
  QNG_FUZZ_CHECK(lines_fit(dsn_message(head, dsn, para, message)));
  QNG_FUZZ_CHECK(lines_fit(dsn_message(head, dsn, all, message)));
  (void)bounce_message(head, para, message);

  StringLines src(all);
  std::string out;
  Status st = write_dsn(head, dsn, src, [&](std::string_view s) { out.append(s); },
                        [&] { out.append(message); });
  QNG_FUZZ_CHECK(st);
  QNG_FUZZ_CHECK(lines_fit(out));

  std::string_view line = recipient;
  QNG_FUZZ_CHECK(lines_fit(dsn_text_line(line, false)));
  QNG_FUZZ_CHECK(lines_fit(dsn_text_line(line, true)));
  QNG_FUZZ_CHECK(lines_fit(dsn_field("Diagnostic-Code", report)));
  return 0;
}

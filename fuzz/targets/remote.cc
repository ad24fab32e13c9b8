// remote.cc: fuzz target for qmail-remote's handling of what a remote SMTP
// server sends (src/bin/qmail-remote/smtp.h, output.h): replies parsed line
// by line, EHLO keywords, and the texts that go into qmail-remote's report;
// and for its DATA encoding of a stored message (body.h), which qmail-smtpd's
// DATA reader (src/bin/qmail-smtpd/data.h) must read back exactly: the end
// of the data where the sender meant it, not earlier (SMTP smuggling).
//
// Input: line 1 piece sizes; the rest both server replies and a message.
#include <string>

#include "body.h"
#include "common/fuzz.h"
#include "data.h"
#include "output.h"
#include "smtp.h"

namespace {

// The message as qmail-smtpd stores what BodyEncoder sent: every LF, CRLF
// and bare CR one LF, and a final line end added.
std::string stored_form(std::string_view m) {
  std::string out;
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < m.size() && m[i + 1] == '\n') ++i;
    } else {
      out.push_back(m[i]);
    }
  }
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  using namespace qng::remote;
  fuzz::Cursor cur(fuzz::as_view(data, size));
  std::string_view sizes = cur.until('\n').substr(0, 8);
  std::string_view in = cur.rest();

  // Replies, one after another.
  fuzz::Cursor lines(in);
  for (int n = 0; n < 64 && !lines.empty(); ++n) {
    ReplyParser p;
    bool done = false;
    while (!done && !lines.empty()) {
      std::string line(lines.until('\n'));
      line.push_back('\n');
      done = p.feed(line);
    }
    Reply r = p.take();
    QNG_FUZZ_CHECK(r.code < 1000);
    (void)parse_ehlo(r.lines);
    std::string said = remote_said(r.text);
    QNG_FUZZ_CHECK(said.find('\0') == std::string::npos);
    QNG_FUZZ_CHECK(one_line(r.text).find_first_of(std::string_view("\r\n\0", 3)) ==
                   std::string::npos);
    std::string sf = safe(r.text);
    for (char c : sf) QNG_FUZZ_CHECK(c >= 33 && c <= 126);
    Output out;
    out.refused(r.code >= 500, "192.0.2.7", r.text);
    out.finish("Z" + said);
  }

  // DATA: encoded whole and in pieces alike, and read back by qmail-smtpd.
  std::string whole = encode_body(in);
  std::string cut;
  BodyEncoder enc;
  fuzz::in_pieces(in, sizes, [&](std::string_view piece) { enc.feed(piece, cut); });
  enc.finish(cut);
  QNG_FUZZ_CHECK(whole == cut);
  QNG_FUZZ_CHECK(whole.ends_with(".\r\n"));

  smtpd::DataReader reader(0);
  std::string stored;
  size_t used = reader.feed(whole, stored);
  QNG_FUZZ_CHECK(reader.done());
  QNG_FUZZ_CHECK(used == whole.size());
  if (in.find('\0') == std::string_view::npos) {
    QNG_FUZZ_CHECK(reader.verdict() == smtpd::DataReader::Verdict::kOk ||
                   reader.verdict() == smtpd::DataReader::Verdict::kHops);
    QNG_FUZZ_CHECK(stored == stored_form(in));
  }
  (void)has_8bit(in);
  return 0;
}

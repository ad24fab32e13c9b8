// dsn_test.cc: qmail-send's RFC 3464 bounces: what a QSBMF report says in
// DSN fields, folding, boundaries, and whole bounces against golden text.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../../src/bin/qmail-send/bounce_text.h"
#include "../../../src/bin/qmail-send/controls.h"
#include "../../../src/bin/qmail-send/dsn_text.h"

namespace qng::send {
namespace {

TEST(Dsn, RecipientFromReport) {
  struct C {
    const char* report;
    const char* status;
    const char* type;
    const char* diagnostic;
    const char* remote;
  };
  const C cases[] = {
      // qmail-local
      {"Sorry, no mailbox here by that name. (#5.1.1)\n", "5.1.1", "X-Qmail",
       "Sorry, no mailbox here by that name. (#5.1.1)", ""},
      {"This message is looping: it already has my Delivered-To line. (#5.4.6)\n", "5.4.6",
       "X-Qmail", "This message is looping: it already has my Delivered-To line. (#5.4.6)", ""},
      // qmail-remote: the reply, its RFC 2034 code, the IP
      {"192.0.2.7 does not like recipient.\nRemote host said: 550 5.1.1 user unknown\n"
       "Giving up on 192.0.2.7.\n",
       "5.1.1", "smtp", "550 5.1.1 user unknown", "192.0.2.7"},
      {"192.0.2.7 does not like recipient.\nRemote host said: 550 no such user\n"
       "Giving up on 192.0.2.7.\n",
       "5.0.0", "smtp", "550 no such user", "192.0.2.7"},
      {"Connected to 192.0.2.7 but sender was rejected.\n"
       "Remote host said: 553-5.7.1 first line\n553 5.7.1 second line\n",
       "5.7.1", "smtp", "553-5.7.1 first line 553 5.7.1 second line", "192.0.2.7"},
      {"192.0.2.7 failed after I sent the message.\nRemote host said: 554 5.7.0 spam\n", "5.7.0",
       "smtp", "554 5.7.0 spam", "192.0.2.7"},
      {"2001:db8::1 does not like recipient.\nRemote host said: 550 5.1.1 no\n", "5.1.1", "smtp",
       "550 5.1.1 no", "2001:db8::1"},
      // an RFC 2034 code of another class than the reply's is not one
      {"192.0.2.7 does not like recipient.\nRemote host said: 550 4.2.2 full\n", "5.0.0", "smtp",
       "550 4.2.2 full", "192.0.2.7"},
      // a reply whose report starts with no IP: no Remote-MTA
      {"Remote host said: 550 5.1.1 x\n", "5.1.1", "smtp", "550 5.1.1 x", ""},
      // "Remote host said: " inside a line is not qmail-remote's
      {"x Remote host said: 550 5.1.1 y\n", "5.0.0", "X-Qmail", "x Remote host said: 550 5.1.1 y",
       ""},
      // qmail-send gave up: permanent, whatever class the text had...
      {"Mailbox full. (#4.2.2)\n", "5.2.2", "X-Qmail", "Mailbox full. (#4.2.2)", ""},
      // ...unless the message was too long in the queue (RFC 3463 4.4.7:
      // the actual problem's code when known)
      {"Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n"
       "I'm not going to try again; this message has been in the queue too long.\n",
       "4.4.1", "X-Qmail",
       "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1) I'm not going to try "
       "again; this message has been in the queue too long.",
       ""},
      {"still busy\nI'm not going to try again; this message has been in the queue too long.\n",
       "4.4.7", "X-Qmail",
       "still busy I'm not going to try again; this message has been in the queue too long.", ""},
      {"Connected to 192.0.2.7 but greeting failed.\nRemote host said: 451 4.7.1 greylisted\n"
       "I'm not going to try again; this message has been in the queue too long.\n",
       "4.7.1", "smtp", "451 4.7.1 greylisted", "192.0.2.7"},
      {"Connected to 192.0.2.7 but greeting failed.\nRemote host said: 421 busy\n"
       "I'm not going to try again; this message has been in the queue too long.\n",
       "4.4.7", "smtp", "421 busy", "192.0.2.7"},
      // codes: the last one, leading zeros dropped, malformed ones ignored
      {"a (#5.1.1)\nb (#5.2.2)\n", "5.2.2", "X-Qmail", "a (#5.1.1) b (#5.2.2)", ""},
      {"odd (#5.01.001)\n", "5.1.1", "X-Qmail", "odd (#5.01.001)", ""},
      {"bad (#5.1234.1) (#3.1.1) (#5.1.1 (#5.1)\n", "5.0.0", "X-Qmail",
       "bad (#5.1234.1) (#3.1.1) (#5.1.1 (#5.1)", ""},
      {"Giving up on 192.0.2.7.\n", "5.0.0", "X-Qmail", "Giving up on 192.0.2.7.", ""},
      {"", "5.0.0", "X-Qmail", "", ""},
      // a paragraph's "/" lines are text like any other
      {"No such user.\n/Really. (#5.1.1)\n", "5.1.1", "X-Qmail", "No such user. /Really. (#5.1.1)",
       ""},
  };
  for (const auto& c : cases) {
    DsnRecipient r = dsn_recipient("who@example.org", c.report);
    EXPECT_EQ(r.recipient, "who@example.org");
    EXPECT_EQ(r.status.text(), c.status) << c.report;
    EXPECT_EQ(r.diagnostic_type, c.type) << c.report;
    EXPECT_EQ(r.diagnostic, c.diagnostic) << c.report;
    EXPECT_EQ(r.remote_mta, c.remote) << c.report;
  }
}

TEST(Dsn, SplitParagraph) {
  auto p = split_paragraph("<a b@example.org>:\nline 1\nline 2\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->recipient, "a b@example.org");
  EXPECT_EQ(p->report, "line 1\nline 2\n");
  p = split_paragraph("<x@y>:");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->recipient, "x@y");
  EXPECT_EQ(p->report, "");
  p = split_paragraph("<>:\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->recipient, "");
  for (const char* bad : {"", "x@y:\n", "<x@y>\n", "<x@y> :\n", "--- Below this line\n"})
    EXPECT_FALSE(split_paragraph(bad)) << bad;
}

TEST(Dsn, TextLine) {
  EXPECT_EQ(dsn_text_line("plain text", false), "plain text\n");
  EXPECT_EQ(dsn_text_line("with newline\n", false), "with newline\n");
  EXPECT_EQ(dsn_text_line("", false), "\n");
  EXPECT_EQ(dsn_text_line("tab\there\rcr\x7f", false), "tab\there?cr?\n");
  EXPECT_EQ(dsn_text_line("caf\xc3\xa9", false), "caf??\n");
  EXPECT_EQ(dsn_text_line("caf\xc3\xa9", true), "caf\xc3\xa9\n");

  // A long word is cut at the limit.
  std::string got = dsn_text_line(std::string(2500, 'x'), false);
  EXPECT_EQ(got, std::string(998, 'x') + "\n" + std::string(998, 'x') + "\n" +
                     std::string(504, 'x') + "\n");
  // A space near the end of the limit takes the cut (and the space).
  std::string words = std::string(900, 'a') + " " + std::string(200, 'b');
  EXPECT_EQ(dsn_text_line(words, false), std::string(900, 'a') + "\n" + std::string(200, 'b') + "\n");
  // A space early in the line does not.
  words = std::string(100, 'a') + " " + std::string(1000, 'b');
  EXPECT_EQ(dsn_text_line(words, false),
            std::string(100, 'a') + " " + std::string(897, 'b') + "\n" + std::string(103, 'b') + "\n");
  // UTF-8 characters stay whole.
  std::string e_acute;
  for (int i = 0; i < 600; ++i) e_acute += "\xc3\xa9";
  got = dsn_text_line("a" + e_acute, true);
  size_t nl = got.find('\n');
  EXPECT_EQ(nl, 997u);
  EXPECT_EQ(got, "a" + e_acute.substr(0, 996) + "\n" + e_acute.substr(996) + "\n");
}

// Unfolds a field (RFC 5322: drop each line break before whitespace).
std::string unfold(std::string s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i)
    if (!(s[i] == '\n' && i + 1 < s.size() && s[i + 1] == ' ')) out += s[i];
  return out;
}

void expect_line_lengths(const std::string& s, size_t max) {
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    ASSERT_NE(nl, std::string::npos) << s;
    EXPECT_LE(nl - start, max) << s.substr(start, nl - start);
    start = nl + 1;
  }
}

TEST(Dsn, Field) {
  EXPECT_EQ(dsn_field("Action", "failed"), "Action: failed\n");
  EXPECT_EQ(dsn_field("Status", "5.1.1"), "Status: 5.1.1\n");
  EXPECT_EQ(dsn_field("X", ""), "X: \n");
  EXPECT_EQ(dsn_field("Final-Recipient", "rfc822; caf\xc3\xa9\t@x\r"),
            "Final-Recipient: rfc822; caf?? @x?\n");

  std::string value = "smtp; 550-5.7.1 The email account that you tried to reach is disabled. "
                      "Learn more at https://support.example.com/mail/?p=DisabledUser x";
  std::string got = dsn_field("Diagnostic-Code", value);
  EXPECT_EQ(got,
            "Diagnostic-Code: smtp; 550-5.7.1 The email account that you tried to reach is\n"
            " disabled. Learn more at https://support.example.com/mail/?p=DisabledUser x\n");
  EXPECT_EQ(unfold(got), "Diagnostic-Code: " + value + "\n");

  // A word longer than a line is cut at 998 bytes.
  std::string word(3000, 'w');
  got = dsn_field("Diagnostic-Code", "X-Qmail; " + word + " tail");
  expect_line_lengths(got, kDsnLineMax);
  std::string flat = unfold(got);
  flat.erase(std::remove(flat.begin(), flat.end(), ' '), flat.end());
  EXPECT_EQ(flat, "Diagnostic-Code:X-Qmail;" + word + "tail\n");

  // Runs of spaces never make a line longer than the limit.
  got = dsn_field("D", std::string(990, 'a') + std::string(50, ' ') + "b");
  expect_line_lengths(got, kDsnLineMax);
}

TEST(Dsn, MessageIdAndBoundary) {
  EXPECT_EQ(make_message_id(1709457002, 4242, 1234, "mx.example.org"),
            "<1709457002.4242.1234.qmail-send@mx.example.org>");
  EXPECT_EQ(make_boundary(1709457002, 4242, 7, 0x0123456789abcdefULL),
            "=_qmail-send_1709457002_4242_7_0123456789abcdef");
  std::string b = make_boundary(INT64_MAX, 2147483647, UINT64_MAX, UINT64_MAX);
  EXPECT_LE(b.size(), 70u);
  EXPECT_EQ(b.substr(0, 13), "=_qmail-send_");
  EXPECT_EQ(b.substr(b.size() - 37), "18446744073709551615_ffffffffffffffff");
  // Only RFC 2046 bchars, none of them a space.
  for (char c : b) EXPECT_TRUE(isalnum(static_cast<unsigned char>(c)) || strchr("=_-.", c)) << c;
  EXPECT_NE(make_boundary(1, 2, 3, 4), make_boundary(1, 2, 4, 4));
}

// A temporary file holding `text`, open for reading at offset 0.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/qng-dsn-test-XXXXXX";
    fd_ = ::mkstemp(name);
    EXPECT_GE(fd_, 0);
    ::unlink(name);
    EXPECT_EQ(::write(fd_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    EXPECT_EQ(::lseek(fd_, 0, SEEK_SET), 0);
  }
  ~TempFile() { ::close(fd_); }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

TEST(Dsn, PickBoundaryAvoidsTheContent) {
  auto gen = [](unsigned attempt) { return "b" + std::to_string(attempt); };
  TempFile clean("nothing here\n--c0\n");
  TempFile has_b0("text\n--b0\nmore\n");
  // The needle across the 64 KiB read chunks.
  TempFile has_b1(std::string(65536 - 2, 'x') + "--b1" + std::string(10, 'y'));

  auto got = pick_boundary(gen, {clean.fd()});
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "b0");
  got = pick_boundary(gen, {clean.fd(), has_b0.fd()});
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "b1");
  got = pick_boundary(gen, {has_b0.fd(), has_b1.fd()});
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "b2");
  // The files are read with pread: their offsets stay at 0.
  EXPECT_EQ(::lseek(has_b1.fd(), 0, SEEK_CUR), 0);

  auto always = [](unsigned) { return std::string("x"); };
  TempFile all_x("--x");
  EXPECT_FALSE(pick_boundary(always, {all_x.fd()}));
  EXPECT_FALSE(pick_boundary(gen, {-1}));
}

TEST(Dsn, ParseBounceformat) {
  struct C {
    const char* in;
    BounceFormat want;
  };
  const C cases[] = {{"dsn", BounceFormat::kDsn},     {"qsbmf", BounceFormat::kQsbmf},
                     {"QSBMF", BounceFormat::kQsbmf}, {" qsbmf\t", BounceFormat::kQsbmf},
                     {"", BounceFormat::kDsn},        {"mime", BounceFormat::kDsn},
                     {"qsbmf2", BounceFormat::kDsn}};
  for (const auto& c : cases) EXPECT_EQ(parse_bounceformat(c.in), c.want) << c.in;
}

BounceHead golden_head() {
  BounceHead h;
  h.date = 1709457002;  // 3 Mar 2024 09:10:02 GMT
  h.bouncefrom = "MAILER-DAEMON";
  h.bouncehost = "mx.example.org";
  h.recipient = "alice@example.com";
  h.return_path = "alice@example.com";
  return h;
}

DsnHead golden_dsn() {
  DsnHead d;
  d.me = "mx.example.org";
  d.message_id = "<1709457002.4242.1234.qmail-send@mx.example.org>";
  d.boundary = "=_qmail-send_test";
  d.arrival = 1709456998;
  return d;
}

const char kMessage[] =
    "Received: (qmail 4242 invoked by uid 1000); 3 Mar 2024 09:09:58 -0000\n"
    "Subject: hi\n\nbody\n";

std::string golden_paragraphs() {
  return bounce_paragraph("nobody@example.org", "Sorry, no mailbox here by that name. (#5.1.1)\n") +
         bounce_paragraph("bob@remote.example.net",
                          "192.0.2.7 does not like recipient.\nRemote host said: 550 5.1.1 user "
                          "unknown\nGiving up on 192.0.2.7.\n");
}

const char kGoldenDsn[] =
    "Date: 3 Mar 2024 09:10:02 -0000\n"
    "From: MAILER-DAEMON@mx.example.org\n"
    "To: alice@example.com\n"
    "Subject: failure notice\n"
    "Message-ID: <1709457002.4242.1234.qmail-send@mx.example.org>\n"
    "Auto-Submitted: auto-replied\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status;\n"
    "\tboundary=\"=_qmail-send_test\"\n"
    "\n"
    "This is a MIME-encapsulated message.\n"
    "\n"
    "--=_qmail-send_test\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "Hi. This is the qmail-send program at mx.example.org.\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
    "This is a permanent error; I've given up. Sorry it didn't work out.\n"
    "\n"
    "<nobody@example.org>:\n"
    "Sorry, no mailbox here by that name. (#5.1.1)\n"
    "\n"
    "<bob@remote.example.net>:\n"
    "192.0.2.7 does not like recipient.\n"
    "Remote host said: 550 5.1.1 user unknown\n"
    "Giving up on 192.0.2.7.\n"
    "\n"
    "--- Below this line is a copy of the message.\n"
    "\n"
    "--=_qmail-send_test\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.org\n"
    "Arrival-Date: 3 Mar 2024 09:09:58 -0000\n"
    "\n"
    "Final-Recipient: rfc822; nobody@example.org\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Diagnostic-Code: X-Qmail; Sorry, no mailbox here by that name. (#5.1.1)\n"
    "\n"
    "Final-Recipient: rfc822; bob@remote.example.net\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Remote-MTA: dns; 192.0.2.7\n"
    "Diagnostic-Code: smtp; 550 5.1.1 user unknown\n"
    "\n"
    "--=_qmail-send_test\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Received: (qmail 4242 invoked by uid 1000); 3 Mar 2024 09:09:58 -0000\n"
    "Subject: hi\n"
    "\n"
    "body\n"
    "\n"
    "--=_qmail-send_test--\n";

TEST(DsnText, GoldenBounce) {
  EXPECT_EQ(dsn_message(golden_head(), golden_dsn(), golden_paragraphs(), kMessage), kGoldenDsn);
}

TEST(DsnText, FileSourceGivesTheSameBytes) {
  // bounce/N read from a file (the production path) and from a string give
  // the same bounce.
  TempFile paragraphs(golden_paragraphs());
  FileLines lines(paragraphs.fd());
  std::string out;
  auto put = [&](std::string_view s) { out.append(s); };
  auto message = [&] { out.append(kMessage); };
  ASSERT_TRUE(write_dsn(golden_head(), golden_dsn(), lines, put, message));
  EXPECT_EQ(out, kGoldenDsn);

  // Lines longer than the reader's cap come in pieces: each piece is a line
  // of part 1, the paragraphs stay whole, the fields are the same.
  FileLines pieces(paragraphs.fd(), 23);
  ASSERT_TRUE(pieces.rewind());
  out.clear();
  ASSERT_TRUE(write_dsn(golden_head(), golden_dsn(), pieces, put, message));
  std::string status = std::string(kGoldenDsn).substr(std::string(kGoldenDsn).find("Reporting-MTA"));
  EXPECT_NE(out.find(status), std::string::npos) << out;
  EXPECT_NE(out.find("<nobody@example.org>:\nSorry, no mailbox here \nby that name. (#5.1.1)\n\n"
                     "<bob@remote.example.net\n>:\n"),
            std::string::npos)
      << out;
}

TEST(DsnText, GoldenDoubleBounce) {
  BounceHead h = golden_head();
  h.bouncefrom = "MAILER DAEMON";
  h.recipient = "postmaster@mx.example.org";
  h.double_bounce = true;
  h.return_path = "";
  std::string paragraphs = bounce_paragraph("alice@example.com", "Mailbox full. (#4.2.2)\n");
  const char* want =
      "Date: 3 Mar 2024 09:10:02 -0000\n"
      "From: \"MAILER DAEMON\"@mx.example.org\n"
      "To: postmaster@mx.example.org\n"
      "Subject: failure notice\n"
      "Message-ID: <1709457002.4242.1234.qmail-send@mx.example.org>\n"
      "Auto-Submitted: auto-replied\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=delivery-status;\n"
      "\tboundary=\"=_qmail-send_test\"\n"
      "\n"
      "This is a MIME-encapsulated message.\n"
      "\n"
      "--=_qmail-send_test\n"
      "Content-Type: text/plain; charset=us-ascii\n"
      "\n"
      "Hi. This is the qmail-send program at mx.example.org.\n"
      "I tried to deliver a bounce message to this address, but the bounce bounced!\n"
      "\n"
      "<alice@example.com>:\n"
      "Mailbox full. (#4.2.2)\n"
      "\n"
      "--- Below this line is the original bounce.\n"
      "\n"
      "--=_qmail-send_test\n"
      "Content-Type: message/delivery-status\n"
      "\n"
      "Reporting-MTA: dns; mx.example.org\n"
      "Arrival-Date: 3 Mar 2024 09:09:58 -0000\n"
      "\n"
      "Final-Recipient: rfc822; alice@example.com\n"
      "Action: failed\n"
      "Status: 5.2.2\n"
      "Diagnostic-Code: X-Qmail; Mailbox full. (#4.2.2)\n"
      "\n"
      "--=_qmail-send_test\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "MSG\n"
      "--=_qmail-send_test--\n";
  EXPECT_EQ(dsn_message(h, golden_dsn(), paragraphs, "MSG"), want);
}

TEST(DsnText, EightBitText) {
  // Valid UTF-8 in a report: part 1 is utf-8, 8bit; part 2 stays ASCII.
  std::string para = bounce_paragraph("j\xc3\xb6rg@example.org", "Pas de bo\xc3\xaete. (#5.1.1)\n");
  std::string got = dsn_message(golden_head(), golden_dsn(), para, "M\n");
  EXPECT_NE(got.find("Content-Type: text/plain; charset=utf-8\n"
                     "Content-Transfer-Encoding: 8bit\n\n"
                     "Hi. This is"),
            std::string::npos)
      << got;
  EXPECT_NE(got.find("<j\xc3\xb6rg@example.org>:\nPas de bo\xc3\xaete. (#5.1.1)\n"),
            std::string::npos);
  EXPECT_NE(got.find("Final-Recipient: rfc822; j??rg@example.org\n"), std::string::npos);
  EXPECT_NE(got.find("Diagnostic-Code: X-Qmail; Pas de bo??te. (#5.1.1)\n"), std::string::npos);

  // Bytes that are not UTF-8: us-ascii, and they become '?'.
  para = bounce_paragraph("x@example.org", "Latin-1: caf\xe9\n");
  got = dsn_message(golden_head(), golden_dsn(), para, "M\n");
  EXPECT_NE(got.find("Content-Type: text/plain; charset=us-ascii\n\nHi."), std::string::npos);
  EXPECT_NE(got.find("<x@example.org>:\nLatin-1: caf?\n"), std::string::npos);
  EXPECT_EQ(got.find("Content-Transfer-Encoding"), std::string::npos);
}

TEST(DsnText, LongReportLinesAreFolded) {
  std::string report = "Remote host said: 550 5.7.1 " + std::string(3000, 'z') + "\n";
  std::string para = bounce_paragraph("x@example.org", "192.0.2.7 does not like recipient.\n" + report);
  std::string got = dsn_message(golden_head(), golden_dsn(), para, "M\n");
  std::string generated = got.substr(0, got.find("Content-Type: message/rfc822"));
  expect_line_lengths(generated, kDsnLineMax);
  EXPECT_NE(generated.find("Status: 5.7.1\n"), std::string::npos);
  EXPECT_NE(generated.find("Remote-MTA: dns; 192.0.2.7\n"), std::string::npos);
}

TEST(DsnText, EveryParagraphGetsFields) {
  std::string paras;
  for (int i = 0; i < 50; ++i)
    paras += bounce_paragraph("u" + std::to_string(i) + "@example.org", "No. (#5.1.1)\n");
  std::string got = dsn_message(golden_head(), golden_dsn(), paras, "M\n");
  size_t n = 0;
  for (size_t pos = got.find("\nFinal-Recipient: "); pos != std::string::npos;
       pos = got.find("\nFinal-Recipient: ", pos + 1))
    ++n;
  EXPECT_EQ(n, 50u);
  EXPECT_NE(got.find("\n\nFinal-Recipient: rfc822; u49@example.org\nAction: failed\n"
                     "Status: 5.1.1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace qng::send

// send_text_test.cc: qmail-send's retry schedule, VERP expansion, log-text
// mangling and bounce (QSBMF) texts, the last against golden text.
#include <cstdint>
#include <ctime>
#include <string>

#include <gtest/gtest.h>

#include "../../../src/bin/qmail-send/bounce_text.h"
#include "../../../src/bin/qmail-send/logtext.h"
#include "../../../src/bin/qmail-send/retry.h"
#include "../../../src/bin/qmail-send/verp.h"

namespace qng::send {
namespace {

TEST(Retry, Isqrt) {
  struct C {
    uint64_t in, want;
  };
  const C cases[] = {{0, 0},         {1, 1},          {2, 1},         {3, 1},
                     {4, 2},         {99, 9},         {100, 10},      {101, 10},
                     {65535, 255},   {65536, 256},    {4294967295u, 65535},
                     {4294967296u, 65536},            {UINT64_MAX, 4294967295u},
                     {18446744065119617025u, 4294967295u},  // (2^32-1)^2
                     {18446744065119617024u, 4294967294u}};
  for (const auto& c : cases) EXPECT_EQ(isqrt(c.in), c.want) << c.in;
}

TEST(Retry, Schedule) {
  // next = birth + (floor(sqrt(now - birth)) + C)^2, C = 10 local, 20 remote.
  const time_t birth = 1700000000;
  struct C {
    time_t age;
    Channel c;
    time_t want_offset;
  };
  const C cases[] = {
      {0, kLocal, 100},           // (0 + 10)^2
      {99, kLocal, 361},          // (9 + 10)^2
      {100, kLocal, 400},         // (10 + 10)^2
      {399, kLocal, 841},         // (19 + 10)^2
      {400, kLocal, 900},         // (20 + 10)^2
      {0, kRemote, 400},          // (0 + 20)^2: 6m40s
      {400, kRemote, 1600},       // 26m40s
      {1600, kRemote, 3600},      // 1 h
      {3600, kRemote, 6400},      // 1h46m40s
      {-50, kLocal, 100},         // born in the future: age 0
      {604800, kRemote, 635209},  // (777 + 20)^2
  };
  for (const auto& c : cases)
    EXPECT_EQ(next_retry(birth, birth + c.age, c.c), birth + c.want_offset) << c.age;
  // No overflow: saturates.
  EXPECT_EQ(next_retry(INT64_MAX - 5, INT64_MAX, kRemote), INT64_MAX);
  EXPECT_GT(next_retry(0, INT64_MAX, kLocal), 0);
}

TEST(Verp, SenderExpansion) {
  struct C {
    const char* sender;
    const char* recip;
    const char* want;
  };
  const C cases[] = {
      {"pre@host-@[]", "box@dom", "prebox=dom@host"},
      {"list-owner-@lists.example-@[]", "joe@a.example", "list-owner-joe=a.example@lists.example"},
      {"pre@host-@[]", "a@b@dom", "prea@b=dom@host"},           // last '@' of the recipient
      {"pre@host-@[]", "nodomain", "pre@host-@[]"},             // recipient without '@'
      {"pre-@[]", "box@dom", "pre-@[]"},                        // no '@' before the suffix
      {"-@[]", "box@dom", "-@[]"},
      {"@host-@[]", "box@dom", "box=dom@host"},
      {"plain@host", "box@dom", "plain@host"},
      {"", "box@dom", ""},
      {"#@[]", "box@dom", "#@[]"},
      {"pre@host-@[]x", "box@dom", "pre@host-@[]x"},
  };
  for (const auto& c : cases) EXPECT_EQ(verp_sender(c.sender, c.recip), c.want) << c.sender;
}

TEST(Verp, BounceTarget) {
  EXPECT_EQ(bounce_target("pre@host-@[]"), "pre@host");
  EXPECT_EQ(bounce_target("user-@host-@[]"), "user-@host");
  EXPECT_EQ(bounce_target("-@[]"), "");
  EXPECT_EQ(bounce_target("alice@example.com"), "alice@example.com");
  EXPECT_EQ(bounce_target(""), "");
  EXPECT_EQ(bounce_target("#@[]"), "#@[]");
}

TEST(LogSafe, Mangling) {
  struct C {
    std::string in;
    const char* want;
  };
  const C cases[] = {
      {"did_1+0+0/", "did_1+0+0/"},
      {"did 1+0+0\n", "did_1+0+0/"},
      {"a%b", "a_b"},
      {"tab\there", "tab_here"},
      {"cr\r\nlf", "cr_/lf"},
      {std::string("\x7f\x80\xff~!", 5), "___~!"},
      {std::string("cut\0here", 8), "cut"},
      {"192.0.2.7 accepted message.\nRemote host said: 250 ok 1700000000 qp 123\n",
       "192.0.2.7_accepted_message./Remote_host_said:_250_ok_1700000000_qp_123/"},
      {"", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(log_safe(c.in), c.want) << c.in;
}

TEST(BounceText, Paragraphs) {
  struct C {
    const char* recip;
    const char* report;
    const char* want;
  };
  const C cases[] = {
      {"nobody@example.org", "Sorry, no mailbox here by that name. (#5.1.1)\n",
       "<nobody@example.org>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"},
      // a newline is added when missing
      {"a@b", "no newline", "<a@b>:\nno newline\n\n"},
      // an empty line inside becomes "/" (qmail turns the second of two
      // newlines into '/', so the '/' joins the next line)
      {"a@b", "one\n\ntwo\n", "<a@b>:\none\n/two\n\n"},
      {"a@b", "one\n\n\ntwo", "<a@b>:\none\n//two\n\n"},
      {"a@b", "\nlead", "<a@b>:\n/lead\n\n"},
      // a report's own trailing empty line too (qmail kept that one)
      {"a@b", "trailing\n\n", "<a@b>:\ntrailing\n/\n\n"},
      // empty report
      {"a@b", "", "<a@b>:\n\n"},
      // newline in the recipient
      {"a\nb@c", "x\n", "<a_b@c>:\nx\n\n"},
  };
  for (const auto& c : cases) EXPECT_EQ(bounce_paragraph(c.recip, c.report), c.want) << c.report;
}

TEST(BounceText, GoldenBounce) {
  BounceHead h;
  h.date = 1709457002;  // 3 Mar 2024 09:10:02 GMT
  h.bouncefrom = "MAILER-DAEMON";
  h.bouncehost = "mx.example.org";
  h.recipient = "alice@example.com";
  h.return_path = "alice@example.com";
  std::string paragraphs =
      bounce_paragraph("nobody@example.org", "Sorry, no mailbox here by that name. (#5.1.1)\n") +
      bounce_paragraph("bob@remote.example.net",
                       "192.0.2.7 does not like recipient.\nRemote host said: 550 5.1.1 user "
                       "unknown\nGiving up on 192.0.2.7.\n");
  std::string message =
      "Received: (qmail 4242 invoked by uid 1000); 3 Mar 2024 09:09:58 -0000\n"
      "Subject: hi\n\nbody\n";
  const char* want =
      "Date: 3 Mar 2024 09:10:02 -0000\n"
      "From: MAILER-DAEMON@mx.example.org\n"
      "To: alice@example.com\n"
      "Subject: failure notice\n"
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
      "Return-Path: <alice@example.com>\n"
      "Received: (qmail 4242 invoked by uid 1000); 3 Mar 2024 09:09:58 -0000\n"
      "Subject: hi\n"
      "\n"
      "body\n";
  EXPECT_EQ(bounce_message(h, paragraphs, message), want);
}

TEST(BounceText, GoldenDoubleBounce) {
  BounceHead h;
  h.date = 1709457002;
  h.bouncefrom = "MAILER DAEMON";  // needs quoting
  h.bouncehost = "mx.example.org";
  h.recipient = "postmaster@mx.example.org";
  h.double_bounce = true;
  h.return_path = "";
  std::string paragraphs = bounce_paragraph("alice@example.com", "Mailbox full. (#4.2.2)\n");
  const char* want =
      "Date: 3 Mar 2024 09:10:02 -0000\n"
      "From: \"MAILER DAEMON\"@mx.example.org\n"
      "To: postmaster@mx.example.org\n"
      "Subject: failure notice\n"
      "\n"
      "Hi. This is the qmail-send program at mx.example.org.\n"
      "I tried to deliver a bounce message to this address, but the bounce bounced!\n"
      "\n"
      "<alice@example.com>:\n"
      "Mailbox full. (#4.2.2)\n"
      "\n"
      "--- Below this line is the original bounce.\n"
      "\n"
      "Return-Path: <>\n"
      "MSG";
  EXPECT_EQ(bounce_message(h, paragraphs, "MSG"), want);
}

TEST(BounceText, QuotedRecipient) {
  BounceHead h;
  h.date = 0;
  h.bouncefrom = "MAILER-DAEMON";
  h.bouncehost = "h";
  h.recipient = "john smith@example.com";
  h.return_path = "john smith@example.com";
  std::string intro = bounce_intro(h);
  EXPECT_NE(intro.find("To: \"john smith\"@example.com\n"), std::string::npos) << intro;
  EXPECT_EQ(bounce_break(h),
            "--- Below this line is a copy of the message.\n\n"
            "Return-Path: <\"john smith\"@example.com>\n");
}

}  // namespace
}  // namespace qng::send

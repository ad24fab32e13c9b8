// smtp_test.cc: reply parsing (qmail's smtpcode), EHLO keywords, MAIL
// parameters.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "smtp.h"

namespace qng::remote {
namespace {

Reply parse(const std::vector<std::string>& lines, size_t* used = nullptr) {
  ReplyParser p;
  size_t i = 0;
  for (; i < lines.size(); ++i)
    if (p.feed(lines[i])) {
      ++i;
      break;
    }
  if (used) *used = i;
  return p.take();
}

TEST(Smtp, Replies) {
  size_t used = 0;
  Reply r = parse({"250-first\r\n", "250-second\r\n", "250 last\r\n", "next\r\n"}, &used);
  EXPECT_EQ(used, 3u);
  EXPECT_EQ(r.code, 250u);
  EXPECT_EQ(r.text, "250-first\n250-second\n250 last\n");
  EXPECT_EQ(r.lines, (std::vector<std::string>{"first", "second", "last"}));

  r = parse({"550 5.1.1 no such user\r\n"});
  EXPECT_EQ(r.code, 550u);
  EXPECT_EQ(r.text, "550 5.1.1 no such user\n");

  r = parse({"220\r\n"});  // code only
  EXPECT_EQ(r.code, 220u);
  r = parse({"xyz junk\r\n"});
  EXPECT_EQ(r.code, 0u);
  r = parse({"25\n"});
  EXPECT_EQ(r.code, 0u);

  // The text is capped at 5000 bytes, the reply still read to its end.
  std::vector<std::string> many;
  for (int i = 0; i < 200; ++i) many.push_back("250-" + std::string(60, 'x') + "\r\n");
  many.push_back("250 end\r\n");
  r = parse(many, &used);
  EXPECT_EQ(used, many.size());
  EXPECT_EQ(r.text.size(), kMaxSmtpText);
}

TEST(Smtp, Ehlo) {
  Reply r = parse({"250-mx.example greets you\r\n", "250-PIPELINING\r\n", "250-SIZE 10240000\r\n",
                   "250-8BITMIME\r\n", "250-smtputf8\r\n", "250-STARTTLS\r\n",
                   "250-AUTH CRAM-MD5 LOGIN\r\n", "250 ENHANCEDSTATUSCODES\r\n"});
  Extensions e = parse_ehlo(r.lines);
  EXPECT_TRUE(e.pipelining);
  EXPECT_TRUE(e.size);
  EXPECT_TRUE(e.eightbitmime);
  EXPECT_TRUE(e.smtputf8);
  EXPECT_TRUE(e.starttls);
  EXPECT_TRUE(e.auth);
  EXPECT_FALSE(e.auth_plain);
  EXPECT_TRUE(e.auth_login);

  e = parse_ehlo(parse({"250-x\r\n", "250 AUTH=PLAIN\r\n"}).lines);
  EXPECT_TRUE(e.auth);
  EXPECT_TRUE(e.auth_plain);
  EXPECT_FALSE(e.auth_login);

  // The greeting line is not a keyword.
  e = parse_ehlo(parse({"250 PIPELINING\r\n"}).lines);
  EXPECT_FALSE(e.pipelining);
  e = parse_ehlo(parse({"250-x\r\n", "250 PIPELININGX\r\n"}).lines);
  EXPECT_FALSE(e.pipelining);
}

TEST(Smtp, MailParams) {
  Delivery d;
  d.size = 1234;
  Extensions all;
  all.size = all.eightbitmime = all.smtputf8 = true;
  EXPECT_EQ(mail_params(d, all, true), " SIZE=1234");
  d.eightbit = true;
  EXPECT_EQ(mail_params(d, all, true), " SIZE=1234 BODY=8BITMIME");
  d.needs_utf8 = true;
  EXPECT_EQ(mail_params(d, all, true), " SIZE=1234 BODY=8BITMIME SMTPUTF8");
  EXPECT_EQ(mail_params(d, all, false), "");  // HELO: no parameters
  Extensions none;
  EXPECT_EQ(mail_params(d, none, true), "");  // 8-bit goes without BODY=
  d.size.reset();
  EXPECT_EQ(mail_params(d, all, true), " BODY=8BITMIME SMTPUTF8");
}

}  // namespace
}  // namespace qng::remote

// output_test.cc: qmail-remote's records and texts, byte for byte.
#include <string>

#include <gtest/gtest.h>

#include "output.h"
#include "remote.h"

namespace qng::remote {
namespace {

using namespace std::string_literals;

TEST(Output, Records) {
  Output o;
  o.accepted();
  o.refused(true, "192.0.2.7", "550 no such user\n");
  o.refused(false, "192.0.2.7", "450 try later\n");
  o.finish("K192.0.2.7 accepted message.\nRemote host said: 250 ok\n");
  o.finish("Zignored");
  EXPECT_TRUE(o.finished());
  EXPECT_EQ(o.bytes(),
            "r\0"
            "h192.0.2.7 does not like recipient.\nRemote host said: 550 no such user\n\0"
            "s192.0.2.7 does not like recipient.\nRemote host said: 450 try later\n\0"
            "K192.0.2.7 accepted message.\nRemote host said: 250 ok\n\0"s);
}

TEST(Output, Texts) {
  EXPECT_EQ(perm_dns("x.test"), "DSorry, I couldn't find any host named x.test. (#5.1.2)\n");
  EXPECT_EQ(perm_dns("a b\x01\xff"), "DSorry, I couldn't find any host named a?b??. (#5.1.2)\n");
  EXPECT_EQ(std::string(kNoConn),
            "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n");
  EXPECT_EQ(std::string(kTempDns), "ZSorry, I couldn't find any host by that name. (#4.1.2)\n");
  EXPECT_EQ(remote_said(""), "");
  EXPECT_EQ(remote_said("250 a\0b\n"s), "Remote host said: 250 a?b\n");
  EXPECT_EQ(one_line("a\r\nb\0c"s), "a  b c");
}

TEST(Output, SmtpAddress) {
  struct Case {
    const char* in;
    const char* want;
  };
  const Case cases[] = {
      {"user@example.net", "user@example.net"},
      {"", ""},
      {"#@[]", "#@[]"},
      {"a b@example.net", "\"a b\"@example.net"},
      {"a..b@example.net", "\"a..b\"@example.net"},
      {"q\"x@example.net", "\"q\\\"x\"@example.net"},
      {"j\xc3\xb6rg@example.net", "j\xc3\xb6rg@example.net"},  // UTF-8 is atext
      {"j\xc3\xb6 rg@example.net", "\"j\xc3\xb6 rg\"@example.net"},
      {"a@b@example.net", "\"a@b\"@example.net"},
  };
  for (const Case& c : cases) EXPECT_EQ(smtp_address(c.in), c.want) << c.in;
}

}  // namespace
}  // namespace qng::remote

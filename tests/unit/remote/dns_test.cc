// dns_test.cc: MX rdata decoding, names we look up, control/dnsservers
// lines, IP address text.
#include <string>

#include <gtest/gtest.h>

#include "dns.h"
#include "ip.h"

namespace qng {
namespace {

using namespace std::string_literals;

TEST(Dns, DecodeMx) {
  auto m = dns::decode_mx("\x00\x0a\x03mx1\x07" "example\x03net\x00"s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->pref, 10u);
  EXPECT_EQ(m->name, "mx1.example.net");

  m = dns::decode_mx("\x01\x00\x00"s);  // the root: a null MX (RFC 7505)
  ASSERT_TRUE(m);
  EXPECT_EQ(m->pref, 256u);
  EXPECT_EQ(m->name, "");

  const std::string bad[] = {
      ""s,
      "\x00"s,
      "\x00\x0a"s,
      "\x00\x0a\x03mx1"s,                 // no root label
      "\x00\x0a\x05mx1\x00"s,             // label past the end
      "\x00\x0a\xc0\x0c"s,                // a compression pointer
      "\x00\x0a\x03mx1\x00junk"s,         // bytes after the name
      "\x00\x0a\x03m x\x00"s,             // a space in a label
      "\x00\x0a\x03m.x\x00"s,             // a dot in a label
      "\x00\x0a\x40"s + std::string(64, 'a') + "\x00"s,  // label of 64
  };
  for (const std::string& b : bad) EXPECT_FALSE(dns::decode_mx(b)) << b.size();

  // A name of more than 255 wire bytes.
  std::string longname = "\x00\x0a"s;
  for (int i = 0; i < 5; ++i) longname += "\x3f"s + std::string(63, 'a');
  longname += "\x00"s;
  EXPECT_FALSE(dns::decode_mx(longname));
}

TEST(Dns, LookupNames) {
  EXPECT_TRUE(dns::lookup_name_ok("example.net"));
  EXPECT_TRUE(dns::lookup_name_ok("example.net."));
  EXPECT_TRUE(dns::lookup_name_ok("xn--bcher-kva.example"));
  EXPECT_FALSE(dns::lookup_name_ok(""));
  EXPECT_FALSE(dns::lookup_name_ok(".example"));
  EXPECT_FALSE(dns::lookup_name_ok("a..b"));
  EXPECT_FALSE(dns::lookup_name_ok("a b"));
  EXPECT_FALSE(dns::lookup_name_ok("a\\b"));
  EXPECT_FALSE(dns::lookup_name_ok(std::string(64, 'a') + ".net"));
  EXPECT_FALSE(dns::lookup_name_ok(std::string(254, 'a')));
}

TEST(Dns, Servers) {
  EXPECT_EQ(dns::parse_dns_server("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(dns::parse_dns_server("127.0.0.1@5353"), "127.0.0.1@5353");
  EXPECT_EQ(dns::parse_dns_server("::1@53"), "::1@53");
  EXPECT_FALSE(dns::parse_dns_server("127.0.0.1@0"));
  EXPECT_FALSE(dns::parse_dns_server("127.0.0.1@65536"));
  EXPECT_FALSE(dns::parse_dns_server("127.0.0.1@"));
  EXPECT_FALSE(dns::parse_dns_server("localhost"));
  EXPECT_FALSE(dns::parse_dns_server(""));
}

TEST(Ip, ParseAndFormat) {
  struct Case {
    const char* in;
    const char* want;  // nullptr: not an address
  };
  const Case cases[] = {
      {"192.0.2.7", "192.0.2.7"},     {"2001:DB8:0::1", "2001:db8::1"},
      {"::", "::"},                   {"1.2.3", nullptr},
      {"192.0.2.256", nullptr},       {"host.example", nullptr},
      {"", nullptr},
  };
  for (const Case& c : cases) {
    auto ip = parse_ip(c.in);
    if (!c.want) {
      EXPECT_FALSE(ip) << c.in;
      continue;
    }
    ASSERT_TRUE(ip) << c.in;
    EXPECT_EQ(format_ip(*ip), c.want);
  }
  EXPECT_EQ(format_ip(*parse_ip_literal("[192.0.2.7]")), "192.0.2.7");
  EXPECT_EQ(format_ip(*parse_ip_literal("[IPv6:2001:db8::1]")), "2001:db8::1");
  EXPECT_EQ(format_ip(*parse_ip_literal("[2001:db8::1]")), "2001:db8::1");
  EXPECT_FALSE(parse_ip_literal("[IPv6:192.0.2.7]"));
  EXPECT_FALSE(parse_ip_literal("192.0.2.7"));
  EXPECT_FALSE(parse_ip_literal("[]"));
}

}  // namespace
}  // namespace qng

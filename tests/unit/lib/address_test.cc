// address_test.cc: parse_smtp_path (qmail's addrparse), quoting, domains.
#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "address.h"

namespace qng {
namespace {

using Params = std::vector<std::string>;

TEST(Address, ParseSmtpPath) {
  struct Case {
    std::string in;
    int err;  // 0: parses
    std::string address;
    Params params;
  };
  const std::string k1000(kMaxAddress - 2, 'x');  // with "@b": exactly the limit
  const Case cases[] = {
      {"<a@b>", 0, "a@b", {}},
      {"<>", 0, "", {}},
      {"FROM:<>", 0, "", {}},
      {"<> SIZE=0", 0, "", {"SIZE=0"}},
      {"FROM:<a@b>", 0, "a@b", {}},
      {"TO:<a@b>", 0, "a@b", {}},
      {"FROM: <a@b> SIZE=100 BODY=8BITMIME", 0, "a@b", {"SIZE=100", "BODY=8BITMIME"}},
      {"<a@b>  SIZE=1   BODY=7BIT  ", 0, "a@b", {"SIZE=1", "BODY=7BIT"}},
      {"<a@b>SIZE=1", 0, "a@b", {"SIZE=1"}},
      {"  <a@b>  ", 0, "a@b", {}},
      // Source routes are dropped.
      {"<@a,@b:user@c>", 0, "user@c", {}},
      {"TO:<@a:user@c>", 0, "user@c", {}},
      {"<@a>", EINVAL, "", {}},
      // Quoting and escapes are removed.
      {"<\"quoted local\"@x>", 0, "quoted local@x", {}},
      {"<\"a\\\"b\"@x>", 0, "a\"b@x", {}},
      {"<\"a>b\"@x>", 0, "a>b@x", {}},
      {"<a\\>b@x>", 0, "a>b@x", {}},
      {"<a\\\\b@x>", 0, "a\\b@x", {}},
      {"<\"a\"\"b\"@x>", 0, "ab@x", {}},
      // qmail's leniency: no brackets, the address ends at a space.
      {"a@b", 0, "a@b", {}},
      {"FROM:a@b", 0, "a@b", {}},
      {"FROM:   a@b SIZE=5", 0, "a@b", {"SIZE=5"}},
      {"TO:@r:a@b", 0, "a@b", {}},
      {"FROM:", 0, "", {}},
      {"\"a b\"@c", 0, "a b@c", {}},
      // Literals and 8-bit bytes pass through.
      {"<a@[1.2.3.4]>", 0, "a@[1.2.3.4]", {}},
      {"<\xc3\xbcser@x>", 0, "\xc3\xbcser@x", {}},
      // Errors: syntax is EINVAL, length E2BIG.
      {"<a@b", EINVAL, "", {}},
      {"FROM:<a@b SIZE=1", EINVAL, "", {}},
      {"<\"a@b>", EINVAL, "", {}},
      {"\"a@b", EINVAL, "", {}},
      {"<a@b\\", EINVAL, "", {}},
      {"<a@b\r>", EINVAL, "", {}},
      {"<a@b\n>", EINVAL, "", {}},
      {std::string("<a\0b@c>", 7), EINVAL, "", {}},
      {"<a@b> SIZE=1\r", EINVAL, "", {}},
      {"<" + k1000 + "@b>", 0, k1000 + "@b", {}},
      {"<" + k1000 + "x@b>", E2BIG, "", {}},
      {"<" + std::string(100000, 'x') + ">", E2BIG, "", {}},
      {std::string(2000, 'y'), E2BIG, "", {}},
  };
  for (const auto& c : cases) {
    auto got = parse_smtp_path(c.in);
    const std::string shown = c.in.substr(0, 60);
    if (c.err) {
      ASSERT_FALSE(got) << shown;
      EXPECT_EQ(got.error().code(), c.err) << shown;
      EXPECT_TRUE(got.error().permanent()) << shown;
      continue;
    }
    ASSERT_TRUE(got) << shown << ": " << got.error().message();
    EXPECT_EQ(got->address, c.address) << shown;
    EXPECT_EQ(got->params, c.params) << shown;
  }
}

TEST(Address, QuoteAsQmailsQuoteC) {
  struct Case { std::string in, want; };
  const Case cases[] = {
      {"a@b", "a@b"},
      {"a.b-c+d=e_f@example.org", "a.b-c+d=e_f@example.org"},
      {"!#$%&'*/?^`{|}~@x", "!#$%&'*/?^`{|}~@x"},
      {"#@[]", "#@[]"},
      {"postmaster", "postmaster"},
      {"", ""},
      {"@x", "\"\"@x"},
      {"a b@c", "\"a b\"@c"},
      {"a b", "\"a b\""},
      {"a..b@c", "\"a..b\"@c"},
      {".a@c", "\".a\"@c"},
      {"a.@c", "\"a.\"@c"},
      {"a\"b@c", "\"a\\\"b\"@c"},
      {"a\\b@c", "\"a\\\\b\"@c"},
      {"a,b@c", "\"a,b\"@c"},
      {"a:b@c", "\"a:b\"@c"},
      {"a(b)@c", "\"a(b)\"@c"},
      {"a<b>@c", "\"a<b>\"@c"},
      {"a[b]@c", "\"a[b]\"@c"},
      {"a;b@c", "\"a;b\"@c"},
      {"a@b@c", "\"a@b\"@c"},
      {"a\tb@c", "\"a\tb\"@c"},
      {"a\nb@c", "\"a\\\nb\"@c"},
      {"\xc3\xbc@x", "\"\xc3\xbc\"@x"},  // quote.c quotes 8-bit bytes
      {"a b@Odd Domain", "\"a b\"@Odd Domain"},  // the domain is kept
  };
  for (const auto& c : cases) EXPECT_EQ(quote_address(c.in), c.want) << c.in;
}

TEST(Address, SplitAtTheLastAt) {
  struct Case { std::string in, local, domain; bool has_at; };
  const Case cases[] = {
      {"a@b", "a", "b", true},
      {"a@b@c", "a@b", "c", true},
      {"abc", "abc", "", false},
      {"a@", "a", "", true},
      {"@b", "", "b", true},
      {"", "", "", false},
  };
  for (const auto& c : cases) {
    auto p = split_address(c.in);
    EXPECT_EQ(p.local, c.local) << c.in;
    EXPECT_EQ(p.domain, c.domain) << c.in;
    EXPECT_EQ(p.has_at, c.has_at) << c.in;
  }
}

TEST(Address, AsciiCase) {
  EXPECT_EQ(lowercase("MiXeD@Example.ORG"), "mixed@example.org");
  EXPECT_EQ(lowercase("\xc3\x84-Z"), "\xc3\x84-z");  // bytes >= 0x80 untouched
  EXPECT_TRUE(iequals("Example.ORG", "example.org"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("example.org", "example.org."));
  EXPECT_FALSE(iequals("a", "b"));
  EXPECT_FALSE(iequals("\xc3\x84", "\xc3\xa4"));
  EXPECT_FALSE(iequals("[", "{"));  // 0x5b vs 0x7b: not letters
}

TEST(Address, ValidDomain) {
  const std::string l63(63, 'a');
  const std::string d255 = l63 + "." + l63 + "." + l63 + "." + l63;  // 4*63+3
  struct Case { std::string in; bool want, want_utf8; };
  const Case cases[] = {
      {"example.com", true, true},
      {"a", true, true},
      {"A-b.C0", true, true},
      {"123.example", true, true},
      {"xn--bcher-kva.example", true, true},
      {"-a.com", false, false},
      {"a-.com", false, false},
      {"a..b", false, false},
      {".a", false, false},
      {"a.", false, false},
      {"", false, false},
      {"a_b.com", false, false},
      {"a b", false, false},
      {"a@b", false, false},
      {l63 + ".com", true, true},
      {l63 + "a.com", false, false},
      {d255, true, true},
      {"a." + d255, false, false},
      {"ex\xc3\xa4mple.com", false, true},
      {"\xc3\xa4-.com", false, false},
      {"[1.2.3.4]", true, true},
      {"[255.255.255.255]", true, true},
      {"[1.2.3]", false, false},
      {"[256.1.1.1]", false, false},
      {"[1.2.3.4", false, false},
      {"[]", false, false},
      {"[a.b.c.d]", false, false},
      {"[IPv6:::1]", true, true},
      {"[ipv6:2001:db8::1]", true, true},
      {"[IPv6:2001:db8::1.2.3.4]", true, true},
      {"[IPv6:1.2.3.4]", false, false},
      {"[IPv6:]", false, false},
      {"[::1]", false, false},
      {"[IPv6:::1", false, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(valid_domain(c.in), c.want) << c.in;
    EXPECT_EQ(valid_domain(c.in, true), c.want_utf8) << c.in;
  }
}

}  // namespace
}  // namespace qng

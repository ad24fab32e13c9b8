// routes_test.cc: smtproutes lookups (qmail's constmap order), relay
// values, control/tlspolicy and control/smtpauth.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "routes.h"

namespace qng::remote {
namespace {

TEST(Routes, Lookup) {
  RouteTable t({
      "example.net:relay.example:2525",
      ".sub.example.org:suffix-relay",
      "sub.example.org:exact-relay",
      "Mixed.Example:mixed",
      "except.example.com:",
      ":smarthost",
      "no colon line",
      "dup.example:first",
      "dup.example:second",
  });
  struct Case {
    const char* host;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {"example.net", "relay.example:2525"},
      {"EXAMPLE.NET", "relay.example:2525"},
      {"a.example.net", "smarthost"},          // no ".example.net" key
      {"sub.example.org", "exact-relay"},      // the full name first
      {"a.sub.example.org", "suffix-relay"},
      {"b.a.sub.example.org", "suffix-relay"},
      {"mixed.example", "mixed"},
      {"except.example.com", ""},              // empty: by MX
      {"other.test", "smarthost"},
      {"dup.example", "second"},               // the later line wins, as constmap
  };
  for (const Case& c : cases) EXPECT_EQ(t.find(c.host), c.want) << c.host;
  EXPECT_EQ(t.find("other.test", false), std::nullopt);
  EXPECT_EQ(RouteTable().find("x"), std::nullopt);
}

TEST(Routes, Relay) {
  struct Case {
    const char* value;
    std::optional<Relay> want;
  };
  const Case cases[] = {
      {"", Relay{"", 25}},
      {"relay.example", Relay{"relay.example", 25}},
      {"relay.example:2525", Relay{"relay.example", 2525}},
      {"192.0.2.7", Relay{"192.0.2.7", 25}},
      {"192.0.2.7:587", Relay{"192.0.2.7", 587}},
      {"[192.0.2.7]", Relay{"[192.0.2.7]", 25}},
      {"[2001:db8::1]:2525", Relay{"[2001:db8::1]", 2525}},
      {"[IPv6:2001:db8::1]", Relay{"[IPv6:2001:db8::1]", 25}},
      {":2525", Relay{"", 2525}},             // ours: by MX, to port 2525
      {"relay:0", std::nullopt},
      {"relay:65536", std::nullopt},
      {"relay:25x", std::nullopt},
      {"relay:", std::nullopt},
      {"[2001:db8::1", std::nullopt},
      {"[192.0.2.7]x", std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(parse_relay(c.value), c.want) << c.value;
}

TEST(Routes, TlsPolicy) {
  struct Case {
    const char* value;
    std::optional<TlsPolicy> want;
  };
  const Case cases[] = {
      {"none", TlsPolicy{TlsLevel::kNone, false}},
      {"may", TlsPolicy{TlsLevel::kMay, false}},
      {"Encrypt", TlsPolicy{TlsLevel::kEncrypt, false}},
      {"verify", TlsPolicy{TlsLevel::kVerify, false}},
      {"none,plainauth", TlsPolicy{TlsLevel::kNone, true}},
      {"may, plainauth", TlsPolicy{TlsLevel::kMay, true}},
      {"", std::nullopt},
      {"strict", std::nullopt},
      {"may,other", std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(parse_tls_policy(c.value), c.want) << c.value;
}

TEST(Routes, TlsPolicyOrder) {
  Config c;
  c.tlspolicy = RouteTable({
      "example.com:verify",
      ".example.org:encrypt",
      "smarthost.example:none",
      ":may,plainauth",
  });
  std::string why;
  auto level = [&](const char* host, const char* relay) {
    auto p = find_tls_policy(c, host, relay, why);
    EXPECT_TRUE(p.ok());
    return p.ok() ? p->level : TlsLevel::kMay;
  };
  EXPECT_EQ(level("example.com", ""), TlsLevel::kVerify);
  EXPECT_EQ(level("a.example.org", ""), TlsLevel::kEncrypt);
  EXPECT_EQ(level("example.com", "smarthost.example"), TlsLevel::kVerify);  // domain first
  EXPECT_EQ(level("other.test", "smarthost.example"), TlsLevel::kNone);     // then relay
  EXPECT_EQ(level("other.test", ""), TlsLevel::kMay);                        // then default
  EXPECT_TRUE(find_tls_policy(c, "other.test", "", why)->plain_auth);

  Config none;  // no file: opportunistic
  auto p = find_tls_policy(none, "x.test", "", why);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->level, TlsLevel::kMay);
  EXPECT_FALSE(p->plain_auth);

  Config bad;
  bad.tlspolicy = RouteTable({"x.test:sometimes"});
  EXPECT_FALSE(find_tls_policy(bad, "x.test", "", why).ok());
  EXPECT_NE(why.find("sometimes"), std::string::npos);
}

TEST(Routes, Credentials) {
  const std::vector<std::string> lines = {
      "relay.example:alice:secret",
      "other.example:bob:pass:with:colons",
      "RELAY2.example:carol:",
      "bad line",
      "relay.example:alice2:newer",
  };
  auto c = find_credentials(lines, "other.example");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "bob");
  EXPECT_EQ(c->password, "pass:with:colons");
  c = find_credentials(lines, "relay.example");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice2");
  EXPECT_EQ(c->password, "newer");
  c = find_credentials(lines, "relay2.example");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "carol");
  EXPECT_EQ(c->password, "");
  EXPECT_FALSE(find_credentials(lines, "unknown.example"));
}

TEST(Routes, SourceAddress) {
  std::vector<IpAddress> out = {*parse_ip("192.0.2.1"), *parse_ip("2001:db8::1"),
                                *parse_ip("192.0.2.2")};
  EXPECT_EQ(source_for(out, *parse_ip("198.51.100.1")), parse_ip("192.0.2.1"));
  EXPECT_EQ(source_for(out, *parse_ip("2001:db8::99")), parse_ip("2001:db8::1"));
  EXPECT_EQ(source_for({*parse_ip("192.0.2.1")}, *parse_ip("::1")), std::nullopt);
}

// A scratch control directory.
class ControlDir {
 public:
  ControlDir() {
    char tmpl[] = "/tmp/qng-remote-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~ControlDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void write(const std::string& name, const std::string& text, mode_t mode = 0644) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
  }
  Control control() const { return Control(dir_); }

 private:
  std::string dir_;
};

TEST(Routes, ReadConfig) {
  ControlDir d;
  std::string why;
  EXPECT_FALSE(read_config(d.control(), why).ok());  // neither helohost nor me
  EXPECT_EQ(why, "Unable to read control files. (#4.3.0)\n");

  d.write("me", "me.example\n");
  auto c = read_config(d.control(), why);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->helohost, "me.example");
  EXPECT_EQ(c->timeout_connect, 60u);
  EXPECT_EQ(c->timeout_remote, 1200u);
  EXPECT_FALSE(c->tlsca);

  d.write("helohost", "helo.example\n");
  d.write("timeoutconnect", "7\n");
  d.write("timeoutremote", "0\n");  // 0 would mean "no time at all"
  d.write("outgoingip", "192.0.2.1\n2001:db8::1\n");
  d.write("dnsservers", "# local cache\n127.0.0.1@5353\n::1\n");
  d.write("tlsca.pem", "x");
  c = read_config(d.control(), why);
  ASSERT_TRUE(c.ok()) << why;
  EXPECT_EQ(c->helohost, "helo.example");
  EXPECT_EQ(c->timeout_connect, 7u);
  EXPECT_EQ(c->timeout_remote, 1u);
  ASSERT_EQ(c->outgoing.size(), 2u);
  EXPECT_EQ(format_ip(c->outgoing[1]), "2001:db8::1");
  EXPECT_EQ(c->dnsservers, (std::vector<std::string>{"127.0.0.1@5353", "::1"}));
  EXPECT_TRUE(c->tlsca);

  d.write("outgoingip", "not-an-address\n");
  EXPECT_FALSE(read_config(d.control(), why).ok());
  EXPECT_EQ(why, "Unable to parse control/outgoingip line not-an-address. (#4.3.0)\n");
  d.write("outgoingip", "");
  d.write("dnsservers", "127.0.0.1@99999\n");
  EXPECT_FALSE(read_config(d.control(), why).ok());
  EXPECT_EQ(why, "Unable to parse control/dnsservers line 127.0.0.1@99999. (#4.3.0)\n");
}

TEST(Routes, SmtpauthFile) {
  ControlDir d;
  std::string why;
  auto c = read_credentials(d.control(), "relay.example", why);
  ASSERT_TRUE(c.ok());  // no file: no AUTH
  EXPECT_FALSE(*c);

  d.write("smtpauth", "# comment\nrelay.example:alice:pa:ss\r\n", 0600);
  c = read_credentials(d.control(), "RELAY.example", why);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(*c);
  EXPECT_EQ((*c)->user, "alice");
  EXPECT_EQ((*c)->password, "pa:ss");
  c = read_credentials(d.control(), "other.example", why);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(*c);

  for (mode_t mode : {0640, 0604, 0660, 0644}) {
    d.write("smtpauth", "relay.example:alice:secret\n", mode);
    EXPECT_FALSE(read_credentials(d.control(), "relay.example", why).ok()) << mode;
    EXPECT_EQ(why,
              "control/smtpauth is open to group or others; refusing to use it "
              "(chmod 600 control/smtpauth). (#4.3.0)\n");
  }
}

}  // namespace
}  // namespace qng::remote

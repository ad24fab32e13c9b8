// relaypolicy_test.cc: the relay policy of qmail-smtpd and qmail-qmtpd:
// badmailfrom, rcpthosts, our own domains, address literals.
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "ip.h"
#include "relaypolicy.h"

namespace qng {
namespace {

class ControlDir {
 public:
  ControlDir() {
    char tmpl[] = "/tmp/policytest.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    dir_ = tmpl;
  }
  ~ControlDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  RelayPolicy load() {
    auto p = RelayPolicy::load(Control(dir_));
    if (!p) std::abort();
    return std::move(*p);
  }

 private:
  std::string dir_;
};

TEST(RelayPolicy, Badmailfrom) {
  ControlDir c;
  c.write("badmailfrom", "spammer@example.org\n@bad.example\n# comment\n");
  RelayPolicy p = c.load();
  EXPECT_TRUE(p.badmailfrom("spammer@example.org"));
  EXPECT_TRUE(p.badmailfrom("SPAMMER@Example.ORG"));
  EXPECT_TRUE(p.badmailfrom("anyone@BAD.example"));
  EXPECT_FALSE(p.badmailfrom("anyone@sub.bad.example"));
  EXPECT_FALSE(p.badmailfrom("other@example.org"));
  EXPECT_FALSE(p.badmailfrom(""));
}

TEST(RelayPolicy, Rcpthosts) {
  ControlDir c;
  c.write("me", "example.test\n");
  c.write("rcpthosts", "example.test\n.example.net\n");
  RelayPolicy p = c.load();
  struct Case {
    const char* address;
    bool want;
  };
  for (const auto& t : std::vector<Case>{{"a@example.test", true},
                                         {"a@EXAMPLE.test", true},
                                         {"a@sub.example.test", false},
                                         {"a@sub.example.net", true},
                                         {"a@example.net", false},
                                         {"postmaster", true},
                                         {"a@other.test", false}}) {
    auto got = p.rcpthost_allowed(t.address);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, t.want) << t.address;
  }
}

// qmail-send applies the percent hack after acceptance: the policy must
// judge the address it will deliver to, or user%remote@ours is a relay.
TEST(RelayPolicy, PercentHackIsJudgedAfterRewriting) {
  for (bool with_rcpthosts : {true, false}) {
    ControlDir c;
    c.write("me", "example.test\n");
    c.write("locals", "example.test\n");
    c.write("percenthack", "example.test\n");
    if (with_rcpthosts) c.write("rcpthosts", "example.test\n");
    RelayPolicy p = c.load();
    struct Case {
      const char* address;
      bool want;
    };
    for (const auto& t : std::vector<Case>{{"a%b.test@example.test", false},
                                           {"a%b.test", false},
                                           {"a%x%b.test@example.test", false},
                                           {"a%example.test@example.test", true},
                                           {"postmaster", true},
                                           {"a@example.test", true}}) {
      auto got = p.rcpthost_allowed(t.address);
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(*got, t.want) << t.address << (with_rcpthosts ? "" : " (no rcpthosts)");
    }
  }
}

TEST(RelayPolicy, MissingRcpthostsMeansOurDomainsOnly) {
  ControlDir c;
  c.write("me", "example.test\n");
  c.write("virtualdomains", "virt.test:joe\n.wild.test:joe\nexcept.wild.test:\n");
  RelayPolicy p = c.load();
  for (const char* yes : {"a@example.test", "a@virt.test", "a@x.wild.test", "box"})
    EXPECT_TRUE(*p.rcpthost_allowed(yes)) << yes;
  for (const char* no : {"a@other.test", "a@except.wild.test", "a@wild.test"})
    EXPECT_FALSE(*p.rcpthost_allowed(no)) << no;

  c.write("openrelay", "1\n");  // qmail's behaviour, asked for
  EXPECT_TRUE(*c.load().rcpthost_allowed("a@other.test"));
}

TEST(RelayPolicy, AddressLiterals) {
  ControlDir c;
  c.write("me", "example.test\n");
  c.write("localiphost", "literal.example.test\n");
  RelayPolicy p = c.load();
  p.set_local_ips({*parse_ip("192.0.2.1"), *parse_ip("2001:db8::1")});
  EXPECT_EQ(*p.rewrite_literal("box@[192.0.2.1]"), "box@literal.example.test");
  EXPECT_EQ(*p.rewrite_literal("box@[IPv6:2001:db8::1]"), "box@literal.example.test");
  EXPECT_EQ(*p.rewrite_literal("box@[192.0.2.2]"), "box@[192.0.2.2]");
  EXPECT_EQ(*p.rewrite_literal("box@example.test"), "box@example.test");
}

}  // namespace
}  // namespace qng

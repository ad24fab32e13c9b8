// mx_test.cc: MX ordering (preference, shuffled ties), the fallback to the
// host's addresses, our own addresses cutting the list, DNS failures.
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mx.h"

namespace qng::remote {
namespace {

IpAddress ip(const char* s) { return *parse_ip(s); }

std::vector<std::string> names(const std::vector<dns::Mx>& mx) {
  std::vector<std::string> out;
  for (const dns::Mx& m : mx) out.push_back(m.name);
  return out;
}

std::vector<std::string> ips(const std::vector<Target>& t) {
  std::vector<std::string> out;
  for (const Target& x : t) out.push_back(format_ip(x.ip));
  return out;
}

TEST(Mx, OrderByPreference) {
  std::vector<dns::Mx> mx = {{30, "c"}, {10, "a"}, {20, "b"}, {5, "first"}};
  for (uint64_t seed = 0; seed < 20; ++seed)
    EXPECT_EQ(names(order_mx(mx, seed)), (std::vector<std::string>{"first", "a", "b", "c"}));
}

TEST(Mx, EqualPreferencesShuffled) {
  std::vector<dns::Mx> mx = {{20, "z"}, {10, "a"}, {10, "b"}, {10, "c"}};
  std::set<std::vector<std::string>> seen;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    auto got = names(order_mx(mx, seed));
    EXPECT_EQ(got.back(), "z");
    seen.insert(got);
  }
  EXPECT_EQ(seen.size(), 6u);  // every order of a, b, c turns up
}

TEST(Mx, SkipSelf) {
  const std::vector<IpAddress> me = {ip("0.0.0.0"), ip("::"), ip("127.0.0.1"), ip("192.0.2.2")};
  auto t = [](unsigned pref, const char* a) { return Target{pref, "mx", ip(a)}; };
  struct Case {
    std::vector<Target> in;
    std::optional<std::vector<std::string>> want;
  };
  const Case cases[] = {
      // Not listed: every target stays.
      {{t(10, "198.51.100.1"), t(20, "198.51.100.2")},
       std::vector<std::string>{"198.51.100.1", "198.51.100.2"}},
      // We are at 20: only better preferences stay.
      {{t(10, "198.51.100.1"), t(20, "192.0.2.2"), t(30, "198.51.100.3")},
       std::vector<std::string>{"198.51.100.1"}},
      // Equal preference to ours goes too.
      {{t(10, "198.51.100.1"), t(20, "198.51.100.2"), t(20, "127.0.0.1")},
       std::vector<std::string>{"198.51.100.1"}},
      // We are the best MX: nothing left (#5.4.6).
      {{t(10, "192.0.2.2"), t(20, "198.51.100.2")}, std::nullopt},
      {{t(0, "127.0.0.1")}, std::nullopt},
      {{t(0, "0.0.0.0")}, std::nullopt},
      {{t(0, "::")}, std::nullopt},
      // A duplicate address keeps its first place only.
      {{t(10, "198.51.100.1"), t(20, "198.51.100.1"), t(30, "198.51.100.2")},
       std::vector<std::string>{"198.51.100.1", "198.51.100.2"}},
  };
  for (const Case& c : cases) {
    auto got = skip_self(c.in, me);
    if (!c.want) {
      EXPECT_FALSE(got.has_value());
      continue;
    }
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(ips(*got), *c.want);
  }
}

TEST(Mx, LocalAddresses) {
  auto me = local_addresses();
  ASSERT_TRUE(me.ok());
  auto has = [&](const char* a) {
    return std::find(me->begin(), me->end(), ip(a)) != me->end();
  };
  EXPECT_TRUE(has("0.0.0.0"));
  EXPECT_TRUE(has("::"));
  EXPECT_TRUE(has("127.0.0.1"));
}

// DNS as a table: name -> answer, or an error.
class FakeDns : public Lookups {
 public:
  std::map<std::string, std::vector<dns::Mx>> mx_;
  std::map<std::string, std::vector<IpAddress>> addr_;
  std::set<std::string> nxdomain_, servfail_;
  std::vector<std::string> asked;

  Result<std::vector<dns::Mx>> mx(std::string_view host) override {
    asked.push_back("MX " + std::string(host));
    std::string h(host);
    if (nxdomain_.count(h)) return Error::perm("no such domain", ENOENT);
    if (servfail_.count(h)) return Error::temp("server failure");
    return mx_.count(h) ? mx_[h] : std::vector<dns::Mx>{};
  }
  Result<std::vector<IpAddress>> addresses(std::string_view name) override {
    asked.push_back("A " + std::string(name));
    std::string h(name);
    if (nxdomain_.count(h)) return Error::perm("no such domain", ENOENT);
    if (servfail_.count(h)) return Error::temp("server failure");
    return addr_.count(h) ? addr_[h] : std::vector<IpAddress>{};
  }
};

const std::vector<IpAddress> kMe = {ip("0.0.0.0"), ip("::"), ip("127.0.0.1")};

TEST(Mx, FindByMx) {
  FakeDns d;
  d.mx_["example.net"] = {{20, "mx2.example.net"}, {10, "mx1.example.net"}};
  d.addr_["mx1.example.net"] = {ip("192.0.2.10"), ip("2001:db8::10")};
  d.addr_["mx2.example.net"] = {ip("192.0.2.20")};
  Found f = find_targets(d, "example.net", "", kMe, 1);
  ASSERT_EQ(f.kind, Found::kOk);
  EXPECT_EQ(ips(f.targets), (std::vector<std::string>{"192.0.2.10", "2001:db8::10", "192.0.2.20"}));
  EXPECT_EQ(f.targets[0].name, "mx1.example.net");
  EXPECT_EQ(f.targets[0].pref, 10u);
}

TEST(Mx, FallBackToAddresses) {
  FakeDns d;
  d.addr_["example.net"] = {ip("192.0.2.7")};
  Found f = find_targets(d, "example.net", "", kMe, 1);
  ASSERT_EQ(f.kind, Found::kOk);
  EXPECT_EQ(ips(f.targets), std::vector<std::string>{"192.0.2.7"});
  EXPECT_EQ(f.targets[0].pref, 0u);
  EXPECT_EQ(f.targets[0].name, "example.net");
}

TEST(Mx, Failures) {
  FakeDns d;
  d.nxdomain_ = {"gone.test", "mxgone.test"};
  d.servfail_ = {"broken.test", "mxbroken.test"};
  d.mx_["nullmx.test"] = {{0, ""}};
  d.mx_["deadmx.test"] = {{10, "mxgone.test"}};
  d.mx_["softmx.test"] = {{10, "mxgone.test"}, {20, "mxbroken.test"}};
  d.mx_["partial.test"] = {{10, "mxbroken.test"}, {20, "ok.test"}};
  d.addr_["ok.test"] = {ip("192.0.2.9")};
  d.mx_["self.test"] = {{10, "localhost.test"}, {20, "ok.test"}};
  d.addr_["localhost.test"] = {ip("127.0.0.1")};
  struct Case {
    const char* host;
    Found::Kind want;
  };
  const Case cases[] = {
      {"gone.test", Found::kNoHost},
      {"broken.test", Found::kTemp},
      {"nothing.test", Found::kNoAddress},  // no MX, no address
      {"nullmx.test", Found::kNullMx},
      {"deadmx.test", Found::kNoAddress},   // the exchanger does not exist
      {"softmx.test", Found::kTemp},        // one might exist later
      {"partial.test", Found::kOk},         // the one that answers is used
      {"self.test", Found::kSelf},
      {"[127.0.0.1]", Found::kSelf},
      {"bad name", Found::kOk},             // FakeDns takes any name
  };
  for (const Case& c : cases) {
    if (std::string(c.host) == "bad name") continue;
    EXPECT_EQ(find_targets(d, c.host, "", kMe, 1).kind, c.want) << c.host;
  }
}

TEST(Mx, Literals) {
  FakeDns d;
  Found f = find_targets(d, "[192.0.2.7]", "", kMe, 1);
  ASSERT_EQ(f.kind, Found::kOk);
  EXPECT_EQ(ips(f.targets), std::vector<std::string>{"192.0.2.7"});
  f = find_targets(d, "192.0.2.8", "", kMe, 1);
  ASSERT_EQ(f.kind, Found::kOk);
  EXPECT_EQ(ips(f.targets), std::vector<std::string>{"192.0.2.8"});
  f = find_targets(d, "[IPv6:2001:db8::7]", "", kMe, 1);
  ASSERT_EQ(f.kind, Found::kOk);
  EXPECT_EQ(ips(f.targets), std::vector<std::string>{"2001:db8::7"});
  EXPECT_TRUE(d.asked.empty());  // no DNS for literals
}

TEST(Mx, Relay) {
  FakeDns d;
  d.mx_["example.net"] = {{10, "mx.example.net"}};
  d.addr_["relay.test"] = {ip("127.0.0.1")};
  // A relay: its addresses, no MX lookup, no self-check (127.0.0.1 stays).
  Found f = find_targets(d, "example.net", "relay.test", kMe, 1);
  ASSERT_EQ(f.kind, Found::kOk);
  EXPECT_EQ(ips(f.targets), std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(d.asked, std::vector<std::string>{"A relay.test"});
  f = find_targets(d, "example.net", "[127.0.0.1]", kMe, 1);
  ASSERT_EQ(f.kind, Found::kOk);
  EXPECT_EQ(ips(f.targets), std::vector<std::string>{"127.0.0.1"});
  d.nxdomain_ = {"gone.test"};
  EXPECT_EQ(find_targets(d, "example.net", "gone.test", kMe, 1).kind, Found::kNoHost);
  EXPECT_EQ(find_targets(d, "example.net", "empty.test", kMe, 1).kind, Found::kNoAddress);
}

}  // namespace
}  // namespace qng::remote

// tcpto_test.cc: qmail's timeout table rules on both layouts (tcpto for
// IPv4, qmail's bytes; tcpto6 for IPv6).
#include <string>

#include <gtest/gtest.h>

#include "tcpto.h"

namespace qng {
namespace {

IpAddress ip(const char* s) { return *parse_ip(s); }

// Applies an update to a table image.
void apply(std::string& table, int family, const std::optional<TcptoWrite>& w) {
  if (!w) return;
  size_t rec = family == AF_INET ? 16 : 32;
  table.replace(w->index * rec, w->record.size(), w->record);
}

TEST(Tcpto, Ipv4BytesAsQmail) {
  std::string t(kTcptoBytes, '\0');
  const IpAddress a = ip("192.0.2.7");
  apply(t, AF_INET, tcpto_update(t, a, true, 0x01020304));
  EXPECT_EQ(t.substr(0, 16), std::string("\xc0\x00\x02\x07\x01\x00\x00\x00\x04\x03\x02\x01\x00\x00\x00\x00", 16));
  EXPECT_EQ(t.substr(16), std::string(kTcptoBytes - 16, '\0'));
  auto recs = tcpto_records(t, AF_INET);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].ip, a);
  EXPECT_EQ(recs[0].count, 1u);
  EXPECT_EQ(recs[0].when, 0x01020304u);
}

TEST(Tcpto, Ipv6Layout) {
  std::string t(kTcpto6Bytes, '\0');
  const IpAddress a = ip("2001:db8::7");
  apply(t, AF_INET6, tcpto_update(t, a, true, 0x0102030405ULL));
  std::string want(32, '\0');
  want.replace(0, 16, std::string(reinterpret_cast<const char*>(a.bytes.data()), 16));
  want[16] = 1;
  want.replace(24, 5, std::string("\x05\x04\x03\x02\x01", 5));
  EXPECT_EQ(t.substr(0, 32), want);
  auto recs = tcpto_records(t, AF_INET6);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].ip, a);
  EXPECT_EQ(recs[0].when, 0x0102030405ULL);
}

void rules(int family, const IpAddress& a, const IpAddress& b) {
  std::string t(tcpto_bytes(family), '\0');
  const unsigned pid = 5;                         // hold: (60 + 5) * 64 = 4160 s
  uint64_t now = 1000000;
  EXPECT_FALSE(tcpto_state(t, a, now, pid).listed);

  apply(t, family, tcpto_update(t, a, true, now));  // count 1: still tried
  EXPECT_TRUE(tcpto_state(t, a, now, pid).listed);
  EXPECT_FALSE(tcpto_state(t, a, now, pid).dead);

  // A second timeout within 120 s counts once.
  EXPECT_FALSE(tcpto_update(t, a, true, now + 119));
  apply(t, family, tcpto_update(t, a, true, now + 120));  // count 2: dead
  now += 120;
  EXPECT_TRUE(tcpto_state(t, a, now, pid).dead);
  EXPECT_TRUE(tcpto_state(t, a, now + 4159, pid).dead);
  EXPECT_FALSE(tcpto_state(t, a, now + 4160, pid).dead);
  EXPECT_FALSE(tcpto_state(t, b, now, pid).dead);

  // The count stops at 10.
  for (int i = 1; i <= 20; ++i) apply(t, family, tcpto_update(t, a, true, now + 200 * i));
  EXPECT_EQ(tcpto_records(t, family)[0].count, 10u);

  // A success (or a failure without timeout) clears it.
  apply(t, family, tcpto_update(t, a, false, now));
  EXPECT_TRUE(tcpto_records(t, family).empty());
  EXPECT_FALSE(tcpto_state(t, a, now, pid).dead);
  // Unlisted and no timeout: nothing to write.
  EXPECT_FALSE(tcpto_update(t, b, false, now));
}

TEST(Tcpto, Rules) {
  rules(AF_INET, ip("192.0.2.7"), ip("192.0.2.8"));
  rules(AF_INET6, ip("2001:db8::7"), ip("2001:db8::8"));
}

TEST(Tcpto, FullTableReplacesLeastRecent) {
  std::string t(kTcptoBytes, '\0');
  for (int i = 0; i < 64; ++i) {
    IpAddress a = ip("198.51.100.0");
    a.bytes[3] = static_cast<unsigned char>(i);
    apply(t, AF_INET, tcpto_update(t, a, true, 10000 + static_cast<uint64_t>(i) * 10));
  }
  EXPECT_EQ(tcpto_records(t, AF_INET).size(), 64u);
  auto w = tcpto_update(t, ip("203.0.113.1"), true, 50000);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->index, 0u);  // the oldest
  apply(t, AF_INET, w);
  EXPECT_EQ(tcpto_records(t, AF_INET)[0].ip, ip("203.0.113.1"));
  // A short or empty table records nothing new.
  EXPECT_FALSE(tcpto_update("", ip("203.0.113.1"), true, 1));
}

}  // namespace
}  // namespace qng

// reports_test.cc: qmail-lspawn's and qmail-rspawn's report rules, the
// users/cdb lookup, and qmail-getpw's account search.
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "cdb.h"
#include "getpw.h"
#include "lspawn.h"
#include "rspawn.h"

namespace qng {
namespace {

using namespace std::string_literals;

int exit_status(int code) { return code << 8; }  // as waitpid reports it
constexpr int kKilled = 9;                       // SIGKILL

TEST(LspawnReport, QmailMapping) {
  struct Case {
    int wstat;
    std::string out;
    std::string want;
  };
  const Case cases[] = {
      {exit_status(0), "did 0+0+1\n", "Kdid 0+0+1\n"},
      {exit_status(0), "", "K"},
      {exit_status(0), "up to\0 here"s, "Kup to"},
      {exit_status(111), "Unable to write. (#4.3.0)\n", "ZUnable to write. (#4.3.0)\n"},
      {exit_status(71), "x", "Zx"},
      {exit_status(74), "x", "Zx"},
      {exit_status(75), "x", "Zx"},
      {exit_status(100), "Sorry, no mailbox here by that name. (#5.1.1)\n",
       "DSorry, no mailbox here by that name. (#5.1.1)\n"},
      {exit_status(1), "x", "Dx"},
      {exit_status(99), "", "D"},
      {kKilled, "partial", "Zqmail-local crashed.\n"},
      {exit_status(112), "ignored", "ZInternal qmail-lspawn bug.\n"},
      {exit_status(113), "", "ZNot allowed to perform deliveries as root.\n"},
      {exit_status(115), "", "ZNFS failure in qmail-local.\n"},
      {exit_status(116), "", "ZUnable to find alias user!\n"},
      {exit_status(117), "", "ZTrouble reading users/cdb in qmail-lspawn.\n"},
      {exit_status(118), "", "ZTemporary failure in qmail-lspawn.\n"},
      {exit_status(119), "", "ZOut of memory in qmail-lspawn.\n"},
      {exit_status(120), "", "ZUnable to run qmail-local.\n"},
      {exit_status(121), "", "ZUnable to run qmail-getpw.\n"},
      {exit_status(126), "", "DUnable to run qmail-local.\n"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(lspawn::report(c.wstat, c.out), c.want) << "wstat " << c.wstat;
  std::string other = lspawn::report(exit_status(lspawn::kExitOtherUid), "");
  EXPECT_EQ(other[0], 'Z');
  EXPECT_NE(other.find("unprivileged instance"), std::string::npos);
}

TEST(LspawnAccount, ParsesSixFields) {
  auto a = lspawn::parse_account("joe\0" "507\0" "100\0" "/home/joe\0" "-\0" "ext\0"s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->user, "joe");
  EXPECT_EQ(a->uid, 507u);
  EXPECT_EQ(a->gid, 100u);
  EXPECT_EQ(a->home, "/home/joe");
  EXPECT_EQ(a->dash, "-");
  EXPECT_EQ(a->ext, "ext");
  auto empty_ext = lspawn::parse_account("joe\0" "507\0" "100\0" "/home/joe\0\0\0"s);
  ASSERT_TRUE(empty_ext.has_value());
  EXPECT_EQ(empty_ext->dash, "");
  const std::string bad[] = {
      "",
      "joe\0" "507\0" "100\0" "/home/joe\0" "-\0"s,                // five fields
      "joe\0" "507\0" "100\0" "/home/joe\0" "-\0" "ext"s,         // last unterminated
      "joe\0" "507\0" "100\0" "/home/joe\0" "-\0" "ext\0x"s,      // bytes left over
      "joe\0" "5x7\0" "100\0" "/home/joe\0" "-\0" "ext\0"s,       // uid not a number
      "joe\0" "\0" "100\0" "/home/joe\0" "-\0" "ext\0"s,          // empty uid
      "joe\0" "507\0" "99999999999\0" "/h\0" "-\0" "e\0"s,        // gid too big
      "\0" "507\0" "100\0" "/home/joe\0" "-\0" "ext\0"s,          // no user
      "joe\0" "507\0" "100\0" "\0" "-\0" "ext\0"s,                // no home
  };
  for (const auto& b : bad) EXPECT_FALSE(lspawn::parse_account(b).has_value()) << b.size();
}

class UsersCdb : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/qng-users-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  // Records as qmail-newu writes them.
  CdbReader make(const std::vector<std::pair<std::string, std::string>>& recs) {
    auto w = CdbWriter::create(dir_ + "/cdb");
    EXPECT_TRUE(w.ok());
    for (const auto& [k, v] : recs) EXPECT_TRUE(w->add(k, v).ok());
    EXPECT_TRUE(w->finish().ok());
    auto r = CdbReader::open(dir_ + "/cdb");
    EXPECT_TRUE(r.ok());
    return std::move(*r);
  }
  std::string dir_;
};

TEST_F(UsersCdb, ExactBeatsWildcardAndLongerPrefixWins) {
  CdbReader cdb = make({
      {"", "-"},
      {"!joe\0"s, "joe\0" "507\0" "100\0" "/home/joe\0" "\0"s},
      {"!joe-"s, "joe\0" "507\0" "100\0" "/home/joe\0" "-\0"s},
      {"!joe-list-"s, "lists\0" "600\0" "100\0" "/home/lists\0" "-\0" "joe-"s},
      {"!"s, "alias\0" "7790\0" "2108\0" "/var/qmail/alias\0" "-\0"s},
  });
  struct Case {
    std::string local, user, dash, ext;
  };
  const Case cases[] = {
      {"joe", "joe", "", ""},
      {"JOE", "joe", "", ""},                       // keys are lowercase
      {"joe-Foo", "joe", "-", "Foo"},               // rest keeps its case
      {"joe-", "joe", "-", ""},
      {"joe-list-x", "lists", "-", "joe-x"},         // longer prefix wins
      {"joey", "alias", "-", "joey"},                // 'y' is no wildcard char
      {"bob", "alias", "-", "bob"},                  // the catch-all "!"
  };
  for (const auto& c : cases) {
    auto r = lspawn::lookup_users(cdb, c.local);
    ASSERT_TRUE(r.ok()) << c.local;
    ASSERT_TRUE(r->has_value()) << c.local;
    EXPECT_EQ((*r)->user, c.user) << c.local;
    EXPECT_EQ((*r)->dash, c.dash) << c.local;
    EXPECT_EQ((*r)->ext, c.ext) << c.local;
  }
}

TEST_F(UsersCdb, NoMatchWithoutCatchAll) {
  CdbReader cdb = make({{"", ""}, {"!joe\0"s, "joe\0" "507\0" "100\0" "/home/joe\0" "\0"s}});
  auto r = lspawn::lookup_users(cdb, "bob");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  auto bad = make({{"", ""}, {"!bad\0"s, "bad\0" "x\0"s}});
  EXPECT_FALSE(lspawn::lookup_users(bad, "bad").ok());
}

TEST(RspawnReport, QmailMappingWithMissingRemoteTemporary) {
  struct Case {
    const char* what;
    int wstat;
    std::string out;
    std::string want;
  };
  const Case cases[] = {
      {"crash", kKilled, "", "Zqmail-remote crashed.\n"},
      {"missing (notqmail #244)", exit_status(127), "",
       "Zqmail-remote is missing or cannot run. (#4.3.0)\n"},
      {"exit 111", exit_status(111), "", "ZUnable to run qmail-remote.\n"},
      {"exit 100", exit_status(100), "", "DUnable to run qmail-remote.\n"},
      {"no output", exit_status(0), "", "Zqmail-remote produced no output.\n"},
      {"no record", exit_status(0), "garbage", "Zqmail-remote produced malformed output. (#4.3.0)\n"},
      {"accepted", exit_status(0),
       "r192.0.2.7 accepted recipient.\nRemote host said: 250 ok\n\0"
       "K192.0.2.7 accepted message.\nRemote host said: 250 queued\n\0"s,
       "K192.0.2.7 accepted recipient.\nRemote host said: 250 ok\n"
       "192.0.2.7 accepted message.\nRemote host said: 250 queued\n"},
      {"recipient rejected", exit_status(0),
       "h192.0.2.7 does not like recipient.\nRemote host said: 550 no\n\0"
       "DGiving up on 192.0.2.7.\n\0"s,
       "D192.0.2.7 does not like recipient.\nRemote host said: 550 no\n"
       "Giving up on 192.0.2.7.\n"},
      {"recipient deferred", exit_status(0), "sgreylisted\n\0DGiving up.\n\0"s,
       "Zgreylisted\nGiving up.\n"},
      {"message failed after rcpt", exit_status(0), "rok\n\0Zconnection died\n\0"s,
       "Zok\nconnection died\n"},
      {"rcpt deferred, message accepted", exit_status(0), "stry later\n\0Kaccepted\n\0"s,
       "Ztry later\n"},  // message better than the recipient: its text is left out
      {"no connection", exit_status(0),
       "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n\0"s,
       "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n"},
      {"bad host", exit_status(0), "DSorry, I couldn't find any host named x. (#5.1.2)\n\0"s,
       "DSorry, I couldn't find any host named x. (#5.1.2)\n"},
      {"no message report: temporary", exit_status(0), "rok\n\0"s, "Zok\n"},
      {"h without message report", exit_status(0), "hno\n\0"s, "Dno\n"},
      {"trailing bytes ignored", exit_status(0), "rok\0Kfine\0junk"s, "Kokfine"},
  };
  for (const auto& c : cases) EXPECT_EQ(rspawn::report(c.wstat, c.out), c.want) << c.what;
}

// ---- qmail-getpw ----

class FakeSystem : public getpw::System {
 public:
  std::map<std::string, getpw::PwEntry> users;
  std::map<std::string, uid_t> owners;
  std::map<std::string, int> stat_errors;
  int pw_error = 0;
  std::vector<std::string> asked;

  std::optional<getpw::PwEntry> getpwnam(const std::string& name, int& err) override {
    asked.push_back(name);
    err = 0;
    auto it = users.find(name);
    if (it == users.end()) {
      err = pw_error;
      return std::nullopt;
    }
    return it->second;
  }
  int owner_of(const std::string& path, uid_t& owner) override {
    if (auto e = stat_errors.find(path); e != stat_errors.end()) return e->second;
    auto it = owners.find(path);
    if (it == owners.end()) return ENOENT;
    owner = it->second;
    return 0;
  }
};

FakeSystem system_with_users() {
  FakeSystem s;
  s.users["joe"] = {"joe", 507, 100, "/home/joe"};
  s.users["joe-ext"] = {"joe-ext", 508, 100, "/home/joe-ext"};
  s.users["root"] = {"root", 0, 0, "/root"};
  s.users["nohome"] = {"nohome", 509, 100, "/home/nohome"};
  s.users["stolen"] = {"stolen", 510, 100, "/home/stolen"};
  s.users["alias"] = {"alias", 7790, 2108, "/var/qmail/alias"};
  s.users[std::string(31, 'l')] = {std::string(31, 'l'), 511, 100, "/home/l31"};
  s.users[std::string(32, 'l')] = {std::string(32, 'l'), 512, 100, "/home/l32"};
  s.owners = {{"/home/joe", 507},   {"/home/joe-ext", 508}, {"/root", 0},
              {"/home/stolen", 0},  {"/var/qmail/alias", 7790}, {"/home/l31", 511},
              {"/home/l32", 512},   {"/inst/alias", 1000}};
  return s;
}

TEST(Getpw, QmailSearch) {
  struct Case {
    std::string local;
    std::string user, dash, ext;
  };
  const Case cases[] = {
      {"joe", "joe", "", ""},
      {"Joe", "joe", "", ""},
      {"joe-ext", "joe-ext", "", ""},             // the longest prefix wins
      {"joe-ext-x", "joe-ext", "-", "x"},
      {"joe-other-Thing", "joe", "-", "other-Thing"},
      {"joe-", "joe", "-", ""},
      {"root", "alias", "-", "root"},            // uid 0 never
      {"root-x", "alias", "-", "root-x"},
      {"nohome", "alias", "-", "nohome"},        // home missing
      {"stolen", "alias", "-", "stolen"},        // home owned by someone else
      {"nobody", "alias", "-", "nobody"},
      {"joey", "alias", "-", "joey"},            // prefixes end at '-' only
      {std::string(31, 'l'), std::string(31, 'l'), "", ""},
      {std::string(32, 'l'), "alias", "-", std::string(32, 'l')},  // too long
      {std::string(31, 'l') + "-x", std::string(31, 'l'), "-", "x"},
      {"", "alias", "-", ""},
      {"-joe", "alias", "-", "-joe"},
  };
  getpw::Mode mode;
  for (const auto& c : cases) {
    FakeSystem sys = system_with_users();
    getpw::Found f;
    ASSERT_EQ(getpw::lookup(sys, c.local, mode, f), 0) << c.local;
    EXPECT_EQ(f.user, c.user) << c.local;
    EXPECT_EQ(f.dash, c.dash) << c.local;
    EXPECT_EQ(f.ext, c.ext) << c.local;
  }
  FakeSystem sys = system_with_users();
  getpw::Found f;
  ASSERT_EQ(getpw::lookup(sys, "joe-a-b", mode, f), 0);
  EXPECT_EQ(sys.asked, (std::vector<std::string>{"joe-a-b", "joe-a", "joe"}));
  EXPECT_EQ(f.uid, 507u);
  EXPECT_EQ(f.gid, 100u);
  EXPECT_EQ(f.home, "/home/joe");
}

TEST(Getpw, Failures) {
  getpw::Mode mode;
  getpw::Found f;
  FakeSystem noalias = system_with_users();
  noalias.users.erase("alias");
  EXPECT_EQ(getpw::lookup(noalias, "nobody", mode, f), getpw::kExitNoAlias);
  FakeSystem busy = system_with_users();
  busy.pw_error = ETXTBSY;
  EXPECT_EQ(getpw::lookup(busy, "nobody", mode, f), getpw::kExitSys);
  FakeSystem nfs = system_with_users();
  nfs.stat_errors["/home/joe"] = EIO;
  EXPECT_EQ(getpw::lookup(nfs, "joe", mode, f), getpw::kExitNfs);
  FakeSystem gone = system_with_users();
  gone.stat_errors["/home/joe"] = ENOENT;  // permanent: next candidate
  EXPECT_EQ(getpw::lookup(gone, "joe", mode, f), 0);
  EXPECT_EQ(f.user, "alias");
}

TEST(Getpw, UnprivilegedInstanceFallsBackToItsAliasDirectory) {
  getpw::Mode mode;
  mode.own_instance = true;
  mode.uid = 1000;
  mode.gid = 1001;
  mode.alias_home = "/inst/alias";
  FakeSystem sys = system_with_users();
  sys.users["me"] = {"me", 1000, 1001, "/home/me"};
  sys.owners["/home/me"] = 1000;
  getpw::Found f;
  // Other uids cannot be delivered to by this instance: they do not count.
  ASSERT_EQ(getpw::lookup(sys, "joe-x", mode, f), 0);
  EXPECT_EQ(getpw::format(f), "alias\0" "1000\0" "1001\0" "/inst/alias\0" "-\0" "joe-x\0"s);
  ASSERT_EQ(getpw::lookup(sys, "me-x", mode, f), 0);
  EXPECT_EQ(getpw::format(f), "me\0" "1000\0" "1001\0" "/home/me\0" "-\0" "x\0"s);
  sys.owners["/inst/alias"] = 0;
  EXPECT_EQ(getpw::lookup(sys, "joe", mode, f), getpw::kExitNoAlias);
}

TEST(Getpw, Format) {
  getpw::Found f{"alias", 7790, 2108, "/var/qmail/alias", "-", "Bob"};
  EXPECT_EQ(getpw::format(f), "alias\0" "7790\0" "2108\0" "/var/qmail/alias\0" "-\0" "Bob\0"s);
}

}  // namespace
}  // namespace qng

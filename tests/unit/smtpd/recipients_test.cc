// recipients_test.cc: users/recipients.cdb: built from a real instance
// directory (users/cdb from users/assign, .qmail files in homes, the alias
// user, passwd accounts, locals, virtualdomains) and looked up as
// qmail-smtpd does.
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "assign.h"
#include "recipients.h"

namespace qng {
namespace {

using recipients::Account;
using recipients::LocalTable;
using recipients::Sources;

class Instance {
 public:
  Instance() {
    char tmpl[] = "/tmp/rcpttest.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    dir_ = tmpl;
    // Under root the instance belongs to a made-up user, as qmail-getpw
    // never picks uid 0.
    uid_ = ::geteuid() == 0 ? 54321 : ::geteuid();
    for (const char* d : {"control", "users", "alias", "home"}) mkdir(d);
  }
  ~Instance() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  const std::string& dir() const { return dir_; }
  uid_t uid() const { return uid_; }

  void mkdir(const std::string& rel) {
    std::string p = dir_ + "/" + rel;
    ::mkdir(p.c_str(), 0755);
    own(p);
  }
  void write(const std::string& rel, const std::string& text) {
    std::string p = dir_ + "/" + rel;
    std::ofstream(p) << text;
    own(p);
  }
  void own(const std::string& p) const {
    if (::geteuid() == 0 && ::chown(p.c_str(), uid_, uid_) != 0) std::abort();
  }
  void assign(const std::string& text) {
    ASSERT_TRUE(compile_assign(text, dir_ + "/users/cdb").ok());
  }
  std::string home(const std::string& name) { return dir_ + "/home/" + name; }

  Sources sources(std::vector<Account> accounts = {}) const {
    Sources s;
    s.home = dir_;
    s.own_instance = true;
    s.uid = uid_;
    s.accounts = std::move(accounts);
    return s;
  }

 private:
  std::string dir_;
  uid_t uid_;
};

std::string line(const char* kind, const std::string& key, uid_t uid, const std::string& home,
                 const std::string& dash, const std::string& ext) {
  std::string u = std::to_string(uid);
  return std::string(kind) + key + ":u:" + u + ":" + u + ":" + home + ":" + dash + ":" + ext +
         ":\n";
}

const char* name(RcptVerdict v) {
  switch (v) {
    case RcptVerdict::kNotOurs: return "not ours";
    case RcptVerdict::kDeliverable: return "deliverable";
    case RcptVerdict::kUnknown: return "unknown";
  }
  return "?";
}

class RecipientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Instance& i = inst_;
    i.write("control/me", "example.test\n");
    i.write("control/locals", "example.test\nlocalhost\n");
    i.write("control/virtualdomains",
            "virt.test:joe\n.wild.test:catch\nboss@other.test:joe\nlist@other2.test:joe\n");
    i.write("control/percenthack", "example.test\n");
    for (const char* h : {"joe", "catch", "nofile", "deep", "sysuser"})
      i.mkdir("home/" + std::string(h));
    i.write("home/joe/.qmail-list", "./Maildir/\n");
    i.write("home/joe/.qmail-sub-default", "./Maildir/\n");
    i.write("home/joe/.qmail-john:doe", "./Maildir/\n");
    i.write("home/catch/.qmail-default", "./Maildir/\n");
    i.write("home/deep/.qmail-pre-a", "./Maildir/\n");
    i.write("home/deep/.qmail-pre-x-default", "./Maildir/\n");
    i.write("home/deep/.qmail-other", "./Maildir/\n");
    i.write("home/sysuser/.qmail-ext", "./Maildir/\n");
    i.write("alias/.qmail-postmaster", "./Maildir/\n");
    i.write("alias/.qmail-mailer-daemon", "./Maildir/\n");
    uid_t u = i.uid();
    i.assign(line("=", "joe", u, i.home("joe"), "", "") +
             line("+", "joe-", u, i.home("joe"), "-", "") +
             line("+", "catch-", u, i.home("catch"), "-", "") +
             line("=", "nofile", u, i.home("nofile"), "-", "box") +
             line("+", "deep-", u, i.home("deep"), "-", "pre-") + ".\n");
    accounts_ = {{"sysuser", u, i.home("sysuser")},
                 {"Upper", u, i.home("sysuser")},          // unreachable: uppercase
                 {"other", u + 1, i.home("sysuser")},      // another uid
                 {"nohome", u, i.dir() + "/home/missing"}};
  }

  void build() {
    auto st = recipients::build(inst_.sources(accounts_));
    ASSERT_TRUE(st.ok()) << st.error().message();
    auto db = RecipientsDb::open(inst_.dir());
    ASSERT_TRUE(db.ok()) << db.error().message();
    db_.emplace(std::move(*db));
  }

  void expect(const std::vector<std::pair<std::string, RcptVerdict>>& cases) {
    for (const auto& [address, want] : cases) {
      auto got = db_->check(address);
      ASSERT_TRUE(got.ok()) << address;
      EXPECT_EQ(name(*got), std::string(name(want))) << address;
    }
  }

  Instance inst_;
  std::vector<Account> accounts_;
  std::optional<RecipientsDb> db_;
};

constexpr RcptVerdict kYes = RcptVerdict::kDeliverable;
constexpr RcptVerdict kNo = RcptVerdict::kUnknown;
constexpr RcptVerdict kNotOurs = RcptVerdict::kNotOurs;

TEST_F(RecipientsTest, LocalDomains) {
  build();
  expect({
      {"joe@example.test", kYes},
      {"JOE@Example.TEST", kYes},
      {"joe@localhost", kYes},
      {"joe-list@example.test", kYes},
      {"joe-sub-x@example.test", kYes},
      {"joe-sub-@example.test", kYes},
      {"joe-sub@example.test", kNo},  // .qmail-sub-default covers sub-*, not sub
      {"joe-john.doe@example.test", kYes},  // ext dots are colons in file names
      {"joe-john:doe@example.test", kYes},
      {"joe-nosuch@example.test", kNo},
      {"catch-anything@example.test", kYes},
      {"catch-@example.test", kYes},
      {"nofile@example.test", kNo},  // dash "-", ext "box", no file
      {"deep-a@example.test", kYes},
      {"deep-x-y@example.test", kYes},
      {"deep-other@example.test", kNo},  // ext would be pre-other
      {"sysuser@example.test", kYes},
      {"sysuser-ext@example.test", kYes},
      {"sysuser-zzz@example.test", kNo},
      {"upper@example.test", kNo},
      {"other@example.test", kNo},
      {"nohome@example.test", kNo},
      {"postmaster@example.test", kYes},
      {"Mailer-Daemon@localhost", kYes},
      {"nosuch@example.test", kNo},
      {"postmaster", kYes},  // envnoathost = me
      {"nosuch", kNo},
      {"joe%example.test@example.test", kYes},  // percenthack
      {"someone@remote.test", kNotOurs},
  });
}

TEST_F(RecipientsTest, VirtualDomains) {
  build();
  expect({
      {"list@virt.test", kYes},
      {"sub-q@virt.test", kYes},
      {"nope@virt.test", kNo},
      {"any@x.wild.test", kYes},
      {"any@a.b.wild.test", kYes},
      {"any@wild.test", kNotOurs},  // ".wild.test" matches subdomains only
      {"boss@other.test", kNo},     // joe-boss has no .qmail file
      {"anyone@other.test", kNotOurs},
      {"list@other2.test", kYes},
  });
}

TEST_F(RecipientsTest, AliasDefaultCatchesOnlyWhatItGoverns) {
  inst_.write("alias/.qmail-default", "./Maildir/\n");
  build();
  expect({
      {"nosuch@example.test", kYes},
      {"anything-at-all@localhost", kYes},
      {"joe-nosuch@example.test", kNo},    // users/cdb's +joe- governs
      {"sysuser-zzz@example.test", kNo},   // qmail-getpw picks sysuser
      {"nofile@example.test", kNo},        // the exact line governs
  });
}

TEST_F(RecipientsTest, UnreadableAliasAcceptsEverything) {
  // A delivery that would fail temporarily is accepted (it may recover).
  std::filesystem::remove_all(inst_.dir() + "/alias");
  build();
  expect({{"nosuch@example.test", kYes}, {"joe-nosuch@example.test", kNo}});
}

TEST_F(RecipientsTest, MissingDatabaseIsAnError) {
  auto db = RecipientsDb::open(inst_.dir());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code(), ENOENT);
}

TEST_F(RecipientsTest, WithoutUsersCdbQmailGetpwDecides) {
  ASSERT_EQ(::unlink((inst_.dir() + "/users/cdb").c_str()), 0);
  build();
  expect({{"sysuser@example.test", kYes}, {"joe@example.test", kNo},
          {"postmaster@example.test", kYes}});
}

TEST(RecipientRecords, CatchAllAndExceptions) {
  LocalTable t;
  t.exact["v-known"] = true;
  t.exact["v-gone"] = false;
  t.wildcard["v-list-"] = true;
  t.wildcard[""] = false;
  t.wildcard["w"] = true;  // everything under prepend "w" (w-...)
  auto r = recipients::db_records(t, {"local.test"},
                                  {":v", "ex.test:", "wide.test:w", "v.test:v"});
  auto has = [&](const std::string& key, char type, char value) {
    auto it = r.find({key, type});
    return it != r.end() && it->second == value;
  };
  EXPECT_TRUE(has("@", 'D', 'V'));
  EXPECT_TRUE(has("known@", 'E', '+'));
  EXPECT_TRUE(has("gone@", 'E', '-'));
  EXPECT_TRUE(has("list-*@", 'W', '+'));
  EXPECT_TRUE(has("*@", 'W', '-'));  // the "" prefix governs the rest of v-
  EXPECT_TRUE(has("@ex.test", 'D', 'X'));
  EXPECT_TRUE(has("*@wide.test", 'W', '+'));  // "w" is a prefix of "w-"
  EXPECT_TRUE(has("@local.test", 'D', 'L'));
  EXPECT_TRUE(has("known@v.test", 'E', '+'));
  EXPECT_FALSE(r.count({"v-known@local.test", 'W'}));
  EXPECT_TRUE(has("v-known@local.test", 'E', '+'));
}

TEST(RecipientTable, LongestPrefixDecides) {
  LocalTable t;
  t.wildcard[""] = true;
  t.wildcard["a-"] = false;
  t.wildcard["a-b-"] = true;
  t.exact["a-x"] = true;
  EXPECT_TRUE(t.deliverable("zzz"));
  EXPECT_FALSE(t.deliverable("a-q"));
  EXPECT_TRUE(t.deliverable("A-X"));
  EXPECT_TRUE(t.deliverable("a-b-c"));
}

}  // namespace
}  // namespace qng

// assign_test.cc: users/assign parsing, its users/cdb records (qmail-newu's
// bytes) and qmail-lspawn's lookup in them.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "assign.h"
#include "cdb.h"

namespace qng {
namespace {

using Records = std::vector<std::pair<std::string, std::string>>;
using namespace std::string_literals;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/assigntest.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    for (const char* n : {"/cdb", "/cdb.tmp"}) ::unlink((path_ + n).c_str());
    ::rmdir(path_.c_str());
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

const std::string kExample =
    "+:alias:7790:2108:/var/qmail/alias:-::\n"
    "+joe-:joe:507:100:/home/joe:-::\n"
    "=joe:joe:507:100:/home/joe:::\n"
    ".\n";

TEST(Assign, RecordsAreQmailNewus) {
  struct Case {
    const char* name;
    std::string in;
    Records want;
  };
  const Case cases[] = {
      {"qmail-users example", kExample,
       {{"!"s, "alias\0" "7790\0" "2108\0" "/var/qmail/alias\0" "-\0"s},
        {"!joe-"s, "joe\0" "507\0" "100\0" "/home/joe\0" "-\0"s},
        {"!joe\0"s, "joe\0" "507\0" "100\0" "/home/joe\0" "\0"s},
        {""s, "-"s}}},
      {"lowercased keys, fields as written", "=Joe.Smith:Joe:0507:100:/Home/J:-:Ext:\n.\n",
       {{"!joe.smith\0"s, "Joe\0" "0507\0" "100\0" "/Home/J\0" "-\0" "Ext"s}, {""s, ""s}}},
      {"wildcard chars, each once, in order",
       "+a-:u:1:1:/h:-::\n+b=:u:1:1:/h:-::\n+c-:u:1:1:/h:-::\n+Dx:u:1:1:/h:-:pre-:\n.\n",
       {{"!a-"s, "u\0" "1\0" "1\0" "/h\0" "-\0"s},
        {"!b="s, "u\0" "1\0" "1\0" "/h\0" "-\0"s},
        {"!c-"s, "u\0" "1\0" "1\0" "/h\0" "-\0"s},
        {"!dx"s, "u\0" "1\0" "1\0" "/h\0" "-\0" "pre-"s},
        {""s, "-=x"s}}},
      {"empty exact local", "=:u:1:1:/h:::\n.\n",
       {{"!\0"s, "u\0" "1\0" "1\0" "/h\0" "\0"s}, {""s, ""s}}},
      {"duplicates kept in order", "=a:u1:1:1:/h:::\n=A:u2:2:2:/h:::\n.\n",
       {{"!a\0"s, "u1\0" "1\0" "1\0" "/h\0" "\0"s},
        {"!a\0"s, "u2\0" "2\0" "2\0" "/h\0" "\0"s},
        {""s, ""s}}},
      {"text after the 7th colon and CR ignored", "=a:u:1:1:/h:::junk:more\r\n.\n",
       {{"!a\0"s, "u\0" "1\0" "1\0" "/h\0" "\0"s}, {""s, ""s}}},
      {"only the dot", ".\n", {{""s, ""s}}},
      {"dot without newline ends it", "=a:u:1:1:/h:::\n.", {{"!a\0"s, "u\0" "1\0" "1\0" "/h\0" "\0"s}, {""s, ""s}}},
      {"any line starting with a dot ends it", ".end\n=garbage\n", {{""s, ""s}}},
      {"lines after the dot ignored", ".\nnot parsed at all\n", {{""s, ""s}}},
  };
  for (const auto& c : cases) {
    auto e = parse_assign(c.in);
    ASSERT_TRUE(e) << c.name << ": " << e.error().message();
    EXPECT_EQ(assign_cdb_records(*e), c.want) << c.name;
  }
}

TEST(Assign, FormatErrorsNameTheLine) {
  struct Case {
    const char* name;
    std::string in;
    size_t line;
  };
  const Case cases[] = {
      {"empty file", "", 1},
      {"no final dot", "=a:u:1:1:/h:::\n", 2},
      {"unterminated last line", "=a:u:1:1:/h:::\n=b:u:1:1:/h:::", 2},
      {"empty line", "=a:u:1:1:/h:::\n\n.\n", 2},
      {"comment line", "#comment\n.\n", 1},
      {"no colon", "=abc\n.\n", 1},
      {"six colons only", "=a:u:1:1:/h::\n.\n", 1},
      {"no type", "a:u:1:1:/h:::\n.\n", 1},
      {"uid not a number", "=a:u:x:1:/h:::\n.\n", 1},
      {"empty uid", "=a:u::1:/h:::\n.\n", 1},
      {"gid not a number", "=a:u:1:-1:/h:::\n.\n", 1},
      {"uid too big", "=a:u:4294967295:1:/h:::\n.\n", 1},
      {"NUL byte", "=a:u:1:1:/h:::\n=b\0:u:1:1:/h:::\n.\n"s, 2},
  };
  for (const auto& c : cases) {
    auto e = parse_assign(c.in);
    ASSERT_FALSE(e) << c.name;
    EXPECT_TRUE(e.error().permanent()) << c.name;
    std::string want = "line " + std::to_string(c.line) + ":";
    EXPECT_EQ(e.error().context().substr(0, want.size()), want) << c.name << ": " << e.error().context();
  }
}

TEST(Assign, CompileWritesCdbAndKeepsOldOnError) {
  TempDir dir;
  std::string path = dir.file("cdb");
  ASSERT_TRUE(compile_assign(kExample, path));
  auto r = CdbReader::open(path);
  ASSERT_TRUE(r);
  auto d = r->dump();
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, assign_cdb_records(*parse_assign(kExample)));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  auto bad = compile_assign("=a:u:1:1:/h:::\n", path);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().permanent());
  auto after = CdbReader::open(path);
  ASSERT_TRUE(after);
  EXPECT_EQ(*after->dump(), *d);
  EXPECT_NE(::access((path + ".tmp").c_str(), F_OK), 0);
}

struct Want {
  std::string user;
  uid_t uid;
  gid_t gid;
  std::string home, dash, ext;
};

void check_lookups(const std::string& assign,
                   const std::vector<std::pair<std::string, std::optional<Want>>>& cases) {
  TempDir dir;
  std::string path = dir.file("cdb");
  auto s = compile_assign(assign, path);
  ASSERT_TRUE(s) << s.error().message();
  auto cdb = CdbReader::open(path);
  ASSERT_TRUE(cdb);
  for (const auto& [local, want] : cases) {
    auto got = assign_lookup(*cdb, local);
    ASSERT_TRUE(got) << local << ": " << got.error().message();
    ASSERT_EQ(got->has_value(), want.has_value()) << local;
    if (!want) continue;
    const Assignment& a = **got;
    EXPECT_EQ(a.user, want->user) << local;
    EXPECT_EQ(a.uid, want->uid) << local;
    EXPECT_EQ(a.gid, want->gid) << local;
    EXPECT_EQ(a.home, want->home) << local;
    EXPECT_EQ(a.dash, want->dash) << local;
    EXPECT_EQ(a.ext, want->ext) << local;
  }
}

TEST(Assign, LookupAsQmailLspawn) {
  const Want joe{"joe", 507, 100, "/home/joe", "", ""};
  auto joe_wild = [](std::string ext) { return Want{"joe", 507, 100, "/home/joe", "-", ext}; };
  auto alias = [](std::string ext) { return Want{"alias", 7790, 2108, "/var/qmail/alias", "-", ext}; };
  check_lookups(kExample, {
                              {"joe", joe},
                              {"JOE", joe},
                              {"joe-foo", joe_wild("foo")},
                              {"Joe-Foo", joe_wild("Foo")},  // the rest keeps its case
                              {"joe-", joe_wild("")},        // the prefix itself
                              {"joe-a-b", joe_wild("a-b")},
                              {"joex", alias("joex")},  // 'e' is no wildcard char
                              {"bob", alias("bob")},
                              {"Bob", alias("Bob")},
                              {"", alias("")},
                          });
}

TEST(Assign, LookupPrecedenceAndPre) {
  const std::string assign =
      "+a-:short:1:1:/s:-:s-:\n"
      "+a-b-:long:2:2:/l:-:l-:\n"
      "=a-b-c:exact:3:3:/e:::\n"
      "=dup:first:4:4:/f:::\n"
      "=dup:second:5:5:/g:::\n"
      "+CAPS:caps:6:6:/c:-::\n"
      ".\n";
  check_lookups(assign, {
                            {"a-b-c", Want{"exact", 3, 3, "/e", "", ""}},
                            {"a-b-d", Want{"long", 2, 2, "/l", "-", "l-d"}},
                            {"a-b-", Want{"long", 2, 2, "/l", "-", "l-"}},
                            {"a-x", Want{"short", 1, 1, "/s", "-", "s-x"}},
                            {"a-", Want{"short", 1, 1, "/s", "-", "s-"}},
                            {"a", std::nullopt},
                            {"dup", Want{"first", 4, 4, "/f", "", ""}},
                            {"capsule", Want{"caps", 6, 6, "/c", "-", "ule"}},
                            {"CAPS", Want{"caps", 6, 6, "/c", "-", ""}},
                            {"nobody", std::nullopt},
                            {"", std::nullopt},
                        });
}

TEST(Assign, LookupInBadDatabases) {
  TempDir dir;
  std::string path = dir.file("cdb");
  struct Case {
    const char* name;
    Records recs;
  };
  const Case cases[] = {
      {"no wildcard record", {{"!a\0"s, "u\0" "1\0" "1\0" "/h\0" "\0"s}}},
      {"too few fields", {{"!a\0"s, "u\0" "1\0" "1\0" "/h"s}, {""s, ""s}}},
      {"too many fields", {{"!a\0"s, "u\0" "1\0" "1\0" "/h\0" "\0" "x\0"s}, {""s, ""s}}},
      {"bad uid", {{"!a\0"s, "u\0" "x\0" "1\0" "/h\0" "\0"s}, {""s, ""s}}},
  };
  for (const auto& c : cases) {
    {
      auto w = CdbWriter::create(path);
      ASSERT_TRUE(w);
      for (const auto& [k, v] : c.recs) ASSERT_TRUE(w->add(k, v));
      ASSERT_TRUE(w->finish());
    }
    auto cdb = CdbReader::open(path);
    ASSERT_TRUE(cdb);
    auto got = assign_lookup(*cdb, "a");
    ASSERT_FALSE(got) << c.name;
    EXPECT_TRUE(got.error().temporary()) << c.name;
  }
}

}  // namespace
}  // namespace qng

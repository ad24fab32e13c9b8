// tcprules_test.cc: rule parsing, the cdb bytes (against a database made by
// ucspi-tcp's own tcprules), the lookup order and following a rule.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cdb.h"
#include "tcprules.h"

namespace qng {
namespace {

using namespace std::string_literals;

// This file's own directory (CMake compiles it by its absolute path).
std::string golden_dir() {
  std::string f = __FILE__;
  return f.substr(0, f.rfind('/'));
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/tcprulestest.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) std::abort();
    path_ = buf.data();
  }
  ~TempDir() {
    if (DIR* d = ::opendir(path_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") ::unlink((path_ + "/" + n).c_str());
      }
      ::closedir(d);
    }
    ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ParseCase {
  const char* line;
  std::vector<RuleRecord> want;
};

TEST(TcpRules, ParseLines) {
  const std::vector<ParseCase> cases = {
      {"", {}},
      {"# comment:allow\n", {}},
      {"\n", {}},
      {"   \t\n", {}},
      {"no colon here\n", {}},
      {"1.2.3.4:allow\n", {{"1.2.3.4", ""}}},
      {"1.2.3.4:deny\n", {{"1.2.3.4", "D\0"s}}},
      {"1.2.3.:allow   \t\n", {{"1.2.3.", ""}}},
      {":allow\r\n", {{"", ""}}},
      {":deny", {{"", "D\0"s}}},
      {"127.:allow,RELAYCLIENT=\"\"\n", {{"127.", "+RELAYCLIENT=\0"s}}},
      {"10.0.:allow,RELAYCLIENT=/@fix.me/\n", {{"10.0.", "+RELAYCLIENT=@fix.me\0"s}}},
      {"127.0.0.1:allow,RELAYCLIENT=\"\",TCPLOCALHOST='movie.edu'\n",
       {{"127.0.0.1", "+RELAYCLIENT=\0+TCPLOCALHOST=movie.edu\0"s}}},
      {"1.2.3.4:deny,WHY=\"a:b,c=d\"\n", {{"1.2.3.4", "D\0+WHY=a:b,c=d\0"s}}},
      {"1.2.3.4:allow,!RELAYCLIENT,X=\"1\"\n", {{"1.2.3.4", "-RELAYCLIENT\0+X=1\0"s}}},
      {"1.2.3.4-6:deny\n", {{"1.2.3.4", "D\0"s}, {"1.2.3.5", "D\0"s}, {"1.2.3.6", "D\0"s}}},
      {"1.2.3.254-300:allow\n", {{"1.2.3.254", ""}, {"1.2.3.255", ""}}},
      {"1.2.3.9-7:allow\n", {}},
      {"10.1-2.:allow\n", {{"10.1.", ""}, {"10.2.", ""}}},
      {"=mail.example.com:allow\n", {{"=mail.example.com", ""}}},
      {"=host-1.example:deny\n", {{"=host-1.example", "D\0"s}}},
      {"=:allow\n", {{"=", ""}}},
      {"joe@127.0.0.1:allow\n", {{"joe@127.0.0.1", ""}}},
      {"::1:allow\n", {{"::1", ""}}},
      {"[::1]:allow\n", {{"::1", ""}}},
      {"2001:DB8:0:0::1:deny\n", {{"2001:db8::1", "D\0"s}}},
      {"2001:db8::allow\n", {{"2001:db8:", ""}}},
      {"[2001:DB8:]:allow,V=\"6\"\n", {{"2001:db8:", "+V=6\0"s}}},
      {"::ffff:1.2.3.4:allow\n", {{"::ffff:1.2.3.4", ""}}},
  };
  for (const auto& c : cases) {
    auto got = parse_rule_line(c.line);
    ASSERT_TRUE(got.ok()) << c.line << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.line;
  }
}

TEST(TcpRules, ParseErrors) {
  const std::vector<std::string> bad = {
      "1.2.3.4:allowx\n",        "1.2.3.4:permit\n",       "1.2.3.4:\n",
      "1.2.3.4:allow,X\n",       "1.2.3.4:allow,X=\n",     "1.2.3.4:allow,X=\"open\n",
      "1.2.3.4:allow,=\"v\"\n",  "1.2.3.4:allow X=\"v\"\n", "1.2.3.4:allow,!\n",
      "1.2.3.x-4:allow\n",       "1.2.3.1-y:allow\n",      "1.2.3.4:allow,X=\"v\"junk\n",
  };
  for (const auto& line : bad) {
    auto got = parse_rule_line(line);
    ASSERT_FALSE(got.ok()) << line;
    EXPECT_TRUE(got.error().permanent());
    std::string trimmed = line.substr(0, line.size() - 1);
    EXPECT_EQ(got.error().message(), "unable to parse this line: " + trimmed);
  }
}

TEST(TcpRules, CompileMatchesUcspiTcprulesBytes) {
  // golden.cdb was written by ucspi-tcp 0.88's tcprules from golden.rules.
  std::string source = slurp(golden_dir() + "/golden.rules");
  std::string want = slurp(golden_dir() + "/golden.cdb");
  ASSERT_FALSE(source.empty());
  ASSERT_GT(want.size(), 2048u);
  TempDir dir;
  std::string cdb = dir.path() + "/rules.cdb";
  std::string tmp = dir.path() + "/rules.tmp";
  ASSERT_TRUE(compile_rules_file(source, cdb, tmp).ok());
  EXPECT_EQ(slurp(cdb), want);
  struct stat st;
  EXPECT_NE(::stat(tmp.c_str(), &st), 0) << "tmp must be renamed away";
  EXPECT_NE(::stat((tmp + ".tmp").c_str(), &st), 0);
}

TEST(TcpRules, SyntaxErrorLeavesCdbAlone) {
  TempDir dir;
  std::string cdb = dir.path() + "/rules.cdb";
  std::string tmp = dir.path() + "/rules.tmp";
  ASSERT_TRUE(compile_rules_file(":allow\n", cdb, tmp).ok());
  std::string before = slurp(cdb);
  auto st = compile_rules_file("1.2.3.4:allow\nbad:line\n", cdb, tmp);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "unable to parse this line: bad:line");
  EXPECT_EQ(slurp(cdb), before);
}

struct DecodeCase {
  std::string data;
  RuleAction want;
};

TEST(TcpRules, DecodeData) {
  const std::vector<DecodeCase> cases = {
      {"", {false, {}}},
      {"D\0"s, {true, {}}},
      {"D\0+A=1\0"s, {true, {{"A", "1"}}}},
      {"+RELAYCLIENT=\0+X=a=b\0"s, {false, {{"RELAYCLIENT", ""}, {"X", "a=b"}}}},
      {"-RELAYCLIENT\0+Y=2\0"s, {false, {{"RELAYCLIENT", std::nullopt}, {"Y", "2"}}}},
      {"+NOEQUALS\0?junk\0+Z=3"s, {false, {}}},  // tail without NUL ignored
  };
  for (const auto& c : cases) EXPECT_EQ(decode_rule_data(c.data), c.want) << c.data;
}

struct KeysCase {
  const char* ip;
  const char* host;
  const char* info;
  std::vector<std::string> want;
};

TEST(TcpRules, LookupOrder) {
  const std::vector<KeysCase> cases = {
      {"1.2.3.4", "", "", {"1.2.3.4", "1.2.3.", "1.2.", "1.", ""}},
      {"1.2.3.4",
       "mx.a.example",
       "",
       {"1.2.3.4", "=mx.a.example", "1.2.3.", "1.2.", "1.", "=.a.example", "=.example", "=", ""}},
      {"127.0.0.1",
       "h",
       "joe",
       {"joe@127.0.0.1", "joe@=h", "127.0.0.1", "=h", "127.0.0.", "127.0.", "127.", "=", ""}},
      {"2001:db8::5", "", "", {"2001:db8::5", "2001:db8::", "2001:db8:", "2001:", ""}},
      {"::1", "", "", {"::1", "::", ":", ""}},
  };
  for (const auto& c : cases) EXPECT_EQ(rule_keys(c.ip, c.host, c.info), c.want) << c.ip;
}

struct MatchCase {
  const char* ip;
  const char* host;
  std::optional<std::string> want;  // the value of A, nullopt for no rule
  bool deny;
};

TEST(TcpRules, FindRule) {
  TempDir dir;
  std::string cdb = dir.path() + "/rules.cdb";
  ASSERT_TRUE(compile_rules_file("1.2.3.4:allow,A=\"ip\"\n"
                                 "=h.example:allow,A=\"host\"\n"
                                 "1.2.:allow,A=\"prefix\"\n"
                                 "=.example:deny,A=\"domain\"\n"
                                 "10.0.0.1-2:deny,A=\"range\"\n"
                                 "2001:db8::allow,A=\"v6\"\n"
                                 "[::1]:allow,A=\"v6lo\"\n",
                                 cdb, dir.path() + "/rules.tmp")
                  .ok());
  auto db = CdbReader::open(cdb);
  ASSERT_TRUE(db.ok());
  const std::vector<MatchCase> cases = {
      {"1.2.3.4", "h.example", "ip", false},  // the IP comes before =host
      {"1.2.9.9", "h.example", "host", false},
      {"1.2.9.9", "", "prefix", false},
      {"9.9.9.9", "x.example", "domain", true},
      {"10.0.0.2", "", "range", true},
      {"10.0.0.3", "", std::nullopt, false},
      {"2001:db8:1::5", "", "v6", false},
      {"::1", "", "v6lo", false},
      {"9.9.9.9", "", std::nullopt, false},
  };
  for (const auto& c : cases) {
    auto r = find_rule(*db, c.ip, c.host, "");
    ASSERT_TRUE(r.ok()) << c.ip;
    if (!c.want) {
      EXPECT_FALSE(r->has_value()) << c.ip;
      continue;
    }
    ASSERT_TRUE(r->has_value()) << c.ip;
    const RuleAction& a = **r;
    EXPECT_EQ(a.deny, c.deny) << c.ip;
    ASSERT_EQ(a.env.size(), 1u) << c.ip;
    EXPECT_EQ(a.env[0].first, "A");
    EXPECT_EQ(a.env[0].second, c.want) << c.ip;
  }
}

TEST(TcpRules, CompileReportsLongLines) {
  std::string text = "1.2.3.4:allow,A=\"" + std::string(kRuleLineMax, 'x') + "\"\n";
  auto r = compile_rules(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "line 1 is too long");
}

}  // namespace
}  // namespace qng

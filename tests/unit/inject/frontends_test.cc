// frontends_test.cc: the sendmail wrapper's option handling and
// qmail-showctl's report, table-driven.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sendmail.h"
#include "showctl.h"

namespace qng {
namespace {

using sendmail::Plan;
using Env = std::vector<std::pair<std::string, std::optional<std::string>>>;

TEST(Sendmail, Plans) {
  const Env from_sender = {{"QMAILNAME", std::nullopt}, {"MAILNAME", std::nullopt},
                           {"NAME", std::nullopt},      {"QMAILHOST", std::nullopt},
                           {"MAILHOST", std::nullopt},  {"QMAILHOST", "b.example"},
                           {"QMAILUSER", "a"}};
  struct Case {
    const char* prog;
    std::vector<std::string> args;
    Plan::What what;
    std::vector<std::string> want_args;
    Env env;
  };
  const std::vector<Case> cases = {
      {"sendmail", {"x@y"}, Plan::kInject, {"-a", "--", "x@y"}, {}},
      {"sendmail", {}, Plan::kInject, {"-a", "--"}, {}},
      {"sendmail", {"-t"}, Plan::kInject, {"-H", "--"}, {}},
      {"sendmail", {"-t", "-i", "x"}, Plan::kInject, {"-H", "--", "x"}, {}},
      {"sendmail", {"-oi", "-oem", "-odb", "-i", "-v", "-x", "-m", "x"}, Plan::kInject,
       {"-a", "--", "x"}, {}},
      {"sendmail", {"-o", "i", "-B", "8BITMIME", "-e", "x", "-p", "smtp:h", "-bm", "r"},
       Plan::kInject, {"-a", "--", "r"}, {}},
      {"sendmail", {"-Ejunk", "-J", "r"}, Plan::kInject, {"-a", "--", "r"}, {}},
      {"sendmail", {"-ti", "-fa@b.example", "r"}, Plan::kInject,
       {"-H", "-f", "a@b.example", "--", "r"}, from_sender},
      {"sendmail", {"-f", "<a@b.example>", "r"}, Plan::kInject,
       {"-a", "-f", "a@b.example", "--", "r"}, from_sender},
      {"sendmail", {"-f", "box", "r"}, Plan::kInject, {"-a", "-f", "box", "--", "r"},
       {{"QMAILNAME", std::nullopt}, {"MAILNAME", std::nullopt}, {"NAME", std::nullopt},
        {"QMAILHOST", std::nullopt}, {"MAILHOST", std::nullopt}, {"QMAILUSER", "box"}}},
      {"sendmail", {"-f<>", "r"}, Plan::kInject, {"-a", "-f", "", "--", "r"},
       {{"QMAILNAME", std::nullopt}, {"MAILNAME", std::nullopt}, {"NAME", std::nullopt},
        {"QMAILHOST", std::nullopt}, {"MAILHOST", std::nullopt}}},
      {"sendmail", {"-F", "Joe Q", "r"}, Plan::kInject, {"-a", "--", "r"},
       {{"QMAILNAME", std::nullopt}, {"MAILNAME", "Joe Q"}}},
      {"sendmail", {"--", "-t"}, Plan::kInject, {"-a", "--", "-t"}, {}},
      {"sendmail", {"r", "-t"}, Plan::kInject, {"-a", "--", "r", "-t"}, {}},
      {"sendmail", {"-bp"}, Plan::kQread, {}, {}},
      {"mailq", {}, Plan::kQread, {}, {}},
      {"newaliases", {}, Plan::kNewaliases, {}, {}},
      {"sendmail", {"-bd"}, Plan::kUsage, {}, {}},
      {"sendmail", {"-q"}, Plan::kUsage, {}, {}},
      {"sendmail", {"-N", "never"}, Plan::kUsage, {}, {}},
      {"sendmail", {"-f"}, Plan::kUsage, {}, {}},
      {"sendmail", {"--help"}, Plan::kHelp, {}, {}},
  };
  for (const auto& c : cases) {
    Plan p = sendmail::plan(c.prog, c.args, false);
    std::string label = std::string(c.prog) + " " + testing::PrintToString(c.args);
    EXPECT_EQ(p.what, c.what) << label;
    EXPECT_EQ(p.args, c.want_args) << label;
    EXPECT_EQ(p.env, c.env) << label;
  }
}

TEST(Sendmail, SmtpdEnvironment) {
  Plan p = sendmail::plan("sendmail", {"-bs"}, false);
  EXPECT_EQ(p.what, Plan::kSmtpd);
  std::map<std::string, std::string> env;
  for (const auto& [k, v] : p.env) env[k] = v.value_or("(unset)");
  EXPECT_EQ(env, (std::map<std::string, std::string>{{"RELAYCLIENT", ""},
                                                    {"DATABYTES", "0"},
                                                    {"PROTO", "TCP"},
                                                    {"TCPLOCALIP", "127.0.0.1"},
                                                    {"TCPLOCALHOST", "localhost"},
                                                    {"TCPREMOTEIP", "127.0.0.1"},
                                                    {"TCPREMOTEHOST", "localhost"},
                                                    {"TCPREMOTEINFO", "sendmail-bs"}}));
  // With $PROTO set (run by tcp-env or a listener), nothing is changed.
  Plan q = sendmail::plan("sendmail", {"-bs"}, true);
  EXPECT_EQ(q.what, Plan::kSmtpd);
  EXPECT_TRUE(q.env.empty());
}

class ShowctlTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/qng-showctl-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    home_ = tmpl;
    ASSERT_EQ(::mkdir((home_ + "/control").c_str(), 0755), 0);
  }
  void TearDown() override { std::filesystem::remove_all(home_); }
  void put(const std::string& name, const std::string& text) {
    std::ofstream(home_ + "/control/" + name) << text;
  }
  std::string run(bool& ok) {
    showctl::Ids ids;
    ids.user = [](const std::string& n) -> std::optional<unsigned long> {
      static const std::map<std::string, unsigned long> m = {
          {"alias", 7790}, {"qmaild", 7791}, {"qmaill", 7792}, {"root", 0},
          {"qmailp", 7794}, {"qmailq", 7795}, {"qmailr", 7796}, {"qmails", 7797}};
      auto it = m.find(n);
      if (it == m.end()) return std::nullopt;
      return it->second;
    };
    ids.group = [](const std::string& n) -> std::optional<unsigned long> {
      return n == "qmail" ? std::optional<unsigned long>(2107) : std::nullopt;
    };
    return showctl::report(home_, ids, ok);
  }
  std::string home_;
};

TEST_F(ShowctlTest, SettingsAndEveryFile) {
  put("me", "mx.example.org\n");
  put("defaultdomain", "example.org\n");
  put("concurrencyremote", "0042xyz\n");
  put("databytes", "junk\n");
  put("locals", "# comment\nmx.example.org\n\nlocalhost\n");
  put("rcptcheck", "0\n");
  put("listen.smtp", "127.0.0.1:2525\n");
  put("tcp.smtp", "127.:allow,RELAYCLIENT=\"\"\n:allow\n");
  put("mystery", "x\n");
  bool ok = false;
  std::string out = run(ok);
  EXPECT_TRUE(ok);
  const char* want[] = {
      "user ids: 7790, 7791, 7792, 0, 7794, 7795, 7796, 7797.\n",
      "group ids: none, 2107.\n",
      "subdirectory split: 23.\n",
      "\nme: My name is mx.example.org.\n",
      "\ndefaultdomain: Default domain name is example.org.\n",
      "\ndefaulthost: (Default.) Default host name is mx.example.org.\n",
      "\nbouncefrom: (Default.) Bounce user name is MAILER-DAEMON.\n",
      "\nconcurrencyremote: Remote concurrency is 42.\n",
      "\ndatabytes: (Default.) SMTP DATA limit is 0 bytes.\n",
      "\nlocals: \nMessages for mx.example.org are delivered locally.\n"
      "Messages for localhost are delivered locally.\n",
      "\nrcpthosts: (Default.) SMTP clients may send messages to any recipient.\n",
      "\nrcptcheck: Unknown local recipients are accepted and bounced later, as qmail does.\n",
      "\nlisten.smtp: SMTP listener address is 127.0.0.1:2525.\n",
      "\ntcp.smtp: \nSMTP connection rule: 127.:allow,RELAYCLIENT=\"\"\n"
      "SMTP connection rule: :allow\n",
      "\ntcp.smtp.cdb: Oops! tcp.smtp exists but tcp.smtp.cdb doesn't. Run qmailctl cdb.\n",
      "\nmystery: I have no idea what this file does.\n",
  };
  for (const char* w : want) EXPECT_NE(out.find(w), std::string::npos) << w << "\n--- in:\n" << out;
  EXPECT_EQ(out.rfind("qmail home directory: " + home_ + ".\n", 0), 0u);
  EXPECT_EQ(out.find("listen.pop3"), std::string::npos);  // not there: not shown
}

TEST_F(ShowctlTest, NoControlDirectory) {
  ASSERT_EQ(::rmdir((home_ + "/control").c_str()), 0);
  bool ok = true;
  std::string out = run(ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(out.find("Oops! Unable to open"), std::string::npos);
}

}  // namespace
}  // namespace qng

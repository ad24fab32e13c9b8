// manage_test.cc: qmailctl's user and domain commands' text edits
// (manage.h) and check's parsers (check.h), table-driven.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../../src/bin/qmailctl/check.h"
#include "../../../src/bin/qmailctl/manage.h"
#include "../../../src/bin/qmailctl/options.h"

namespace qng::ctl {
namespace {

TEST(QmailctlManage, ParseAddress) {
  struct Case {
    const char* in;
    const char* want;  // nullptr: refused
  };
  const Case cases[] = {
      {"jo@example.org", "jo@example.org"},
      {"Jo.Smith@Example.ORG", "jo.smith@example.org"},
      {"a+b_c-d@x.y", "a+b_c-d@x.y"},
      {"jo", nullptr},
      {"@example.org", nullptr},
      {"jo@", nullptr},
      {".jo@example.org", nullptr},
      {"jo.@example.org", nullptr},
      {"j..o@example.org", nullptr},
      {"j:o@example.org", nullptr},
      {"j/o@example.org", nullptr},
      {"jo@exa mple.org", nullptr},
      {"jo@.example.org", nullptr},
      {"jo@example..org", nullptr},
  };
  for (const auto& c : cases) {
    auto a = parse_address(c.in);
    if (!c.want) {
      EXPECT_FALSE(a) << c.in;
    } else {
      ASSERT_TRUE(a) << c.in;
      EXPECT_EQ(a->text(), c.want);
    }
  }
}

TEST(QmailctlManage, ValidTarget) {
  EXPECT_TRUE(valid_target("jo@example.org"));
  EXPECT_TRUE(valid_target("bob"));
  for (const char* bad : {"", "|cat", "/tmp/x", "./Maildir/", "#x", "&x@y", "+list", "a b@c",
                          "a@b c", "<a@b>", "a@", "a,b@c"})
    EXPECT_FALSE(valid_target(bad)) << bad;
}

TEST(QmailctlManage, VirtualdomainsPrefix) {
  std::vector<std::string> lines = {"# comment", "", "Example.ORG:example.org", "x.test:x",
                                    "noclon", "x.test:second", "except.test:"};
  EXPECT_EQ(vdom_prefix(lines, "example.org"), "example.org");
  EXPECT_EQ(vdom_prefix(lines, "X.TEST"), "second");  // the last line wins
  EXPECT_EQ(vdom_prefix(lines, "except.test"), "");
  EXPECT_EQ(vdom_prefix(lines, "other.test"), std::nullopt);
  EXPECT_EQ(vdom_key("A.b:c"), "a.b");
  EXPECT_EQ(vdom_key("# a:b"), std::nullopt);
  EXPECT_EQ(vdom_key("nocolon"), std::nullopt);
}

TEST(QmailctlManage, AssignEdits) {
  EXPECT_EQ(assign_insert(".\n", "=a:u:1:2:/h:::"), "=a:u:1:2:/h:::\n.\n");
  EXPECT_EQ(assign_insert("=b:u:1:2:/h:::\n.\n", "=a:u:1:2:/h:::"),
            "=b:u:1:2:/h:::\n=a:u:1:2:/h:::\n.\n");
  EXPECT_EQ(assign_insert("", "=a:u:1:2:/h:::"), "=a:u:1:2:/h:::\n.\n");
  EXPECT_EQ(assign_insert("=b:u:1:2:/h:::\n.\nafter\n", "=a:x"), "=b:u:1:2:/h:::\n=a:x\n.\nafter\n");
  size_t n = 0;
  EXPECT_EQ(assign_remove("=a:u:1:2:/h:::\n+a-:u:1:2:/h:-::\n=ab:u:1:2:/h:::\n+ab-:u:1:2:/h:-::\n.\n",
                          "A", &n),
            "=ab:u:1:2:/h:::\n+ab-:u:1:2:/h:-::\n.\n");
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(assign_remove("=b:u:1:2:/h:::\n.\n=a:after the end\n", "a", &n),
            "=b:u:1:2:/h:::\n.\n=a:after the end\n");
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(assign_line("example.org-jo", "vmail", 5000, 5001, "/var/qmail/home/example.org/jo"),
            "=example.org-jo:vmail:5000:5001:/var/qmail/home/example.org/jo:::");
  EXPECT_EQ(assign_exact_local("=Jo:u:1:2:/h:::"), "jo");
  EXPECT_EQ(assign_exact_local("+jo-:u:1:2:/h:-::"), std::nullopt);
}

TEST(QmailctlManage, AliasFiles) {
  EXPECT_EQ(alias_file_name("example.org-Info"), ".qmail-example:org-info");
  EXPECT_EQ(alias_file_name("postmaster"), ".qmail-postmaster");
  EXPECT_EQ(alias_file_text({"a@b.c", "d"}), "&a@b.c\n&d\n");
  EXPECT_EQ(split_lines("a\n\nb"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(join_lines({"a", "b"}), "a\nb\n");
  EXPECT_TRUE(line_is("Example.ORG \t", "example.org"));
  EXPECT_FALSE(line_is(".example.org", "example.org"));
}

TEST(QmailctlManage, Arguments) {
  struct Case {
    std::vector<std::string> argv;
    bool ok;
    Command command;
    std::vector<std::string> args;
  };
  const Case cases[] = {
      {{"qmailctl", "check"}, true, Command::kCheck, {}},
      {{"qmailctl", "check", "x"}, false, Command::kCheck, {}},
      {{"qmailctl", "adddomain", "a.b"}, true, Command::kAddDomain, {"a.b"}},
      {{"qmailctl", "adddomain"}, false, Command::kAddDomain, {}},
      {{"qmailctl", "adddomain", "a.b", "--force"}, false, Command::kAddDomain, {}},
      {{"qmailctl", "deldomain", "--force", "a.b", "--keep-mail"}, true, Command::kDelDomain, {"a.b"}},
      {{"qmailctl", "adduser", "a@b", "--password-stdin"}, true, Command::kAddUser, {"a@b"}},
      {{"qmailctl", "adduser", "a@b", "--keep-mail"}, false, Command::kAddUser, {}},
      {{"qmailctl", "deluser", "a@b", "--keep-mail"}, true, Command::kDelUser, {"a@b"}},
      {{"qmailctl", "addalias", "a@b"}, false, Command::kAddAlias, {}},
      {{"qmailctl", "addalias", "a@b", "c@d", "e"}, true, Command::kAddAlias, {"a@b", "c@d", "e"}},
      {{"qmailctl", "listusers"}, true, Command::kListUsers, {}},
      {{"qmailctl", "listusers", "a.b"}, true, Command::kListUsers, {"a.b"}},
      {{"qmailctl", "listusers", "a.b", "c.d"}, false, Command::kListUsers, {}},
  };
  for (const auto& c : cases) {
    auto o = parse_args(c.argv);
    ASSERT_EQ(o.ok(), c.ok) << c.argv[1] << " " << c.argv.size();
    if (!c.ok) continue;
    EXPECT_EQ(o->command, c.command);
    EXPECT_EQ(o->args, c.args);
  }
  auto o = parse_args({"qmailctl", "deldomain", "--force", "a.b", "--keep-mail"});
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->force);
  EXPECT_TRUE(o->keep_mail);
  EXPECT_FALSE(o->password_stdin);
}

// Each checker: input text, the formatted findings it must give.
struct CheckCase {
  std::string text;
  std::vector<std::string> want;
};

template <class Fn>
void run_cases(const std::vector<CheckCase>& cases, Fn fn) {
  for (const auto& c : cases) {
    Findings f;
    fn(c.text, f);
    std::vector<std::string> got;
    for (const auto& x : f) got.push_back(format_finding(x));
    EXPECT_EQ(got, c.want) << c.text;
  }
}

TEST(QmailctlCheck, DomainLists) {
  run_cases({{"example.org\n# x\n\nlocalhost \n[127.0.0.1]\n", {}},
             {"a b\n", {"L:1: not a domain name: \"a b\""}},
             {"ok\n.suffix.org\n", {"L:2: not a domain name: \".suffix.org\""}},
             {"x@y\n", {"L:1: not a domain name: \"x@y\""}}},
            [](const std::string& t, Findings& f) { check_domain_list("L", t, false, f); });
  run_cases({{".suffix.org\nexample.org\n", {}}, {"..x\n", {"R:1: not a domain name: \"..x\""}}},
            [](const std::string& t, Findings& f) { check_domain_list("R", t, true, f); });
}

TEST(QmailctlCheck, Virtualdomains) {
  run_cases({{"example.org:example.org\n.sub.test:p\n:catchall\njo@x.test:jo\nexcept.test:\n", {}},
             {"example.org\n",
              {"V:1: no colon: want DOMAIN:PREPEND (qmail-send ignores this line): \"example.org\""}},
             {"a.test:has space\n",
              {"V:1: bad prepend \"has space\": letters, digits and . _ - + = only (it becomes "
               "part of a local part)"}},
             {"a.test:a\nA.test:b\n", {"V:2: warning: \"A.test\" listed again: this line wins"}},
             {"@x.test:a\n", {"V:1: empty user before @ in \"@x.test\""}}},
            [](const std::string& t, Findings& f) { check_virtualdomains("V", t, f); });
}

TEST(QmailctlCheck, Smtproutes) {
  run_cases({{"example.org:relay.example.org\n.x.test:[10.0.0.1]:2525\n:smarthost:587\nlocal.test:\n",
              {}},
             {"nocolon\n", {"S:1: no colon: want DOMAIN:RELAY[:PORT]: \"nocolon\""}},
             {"a.test:relay:0\n", {"S:1: bad port \"0\""}},
             {"a.test:relay:http\n", {"S:1: bad port \"http\""}},
             {"a.test:[1.2.3.4\n", {"S:1: unclosed [ in relay \"[1.2.3.4\""}},
             {"a.test:bad host\n", {"S:1: bad relay host \"bad host\""}}},
            [](const std::string& t, Findings& f) { check_smtproutes("S", t, f); });
}

TEST(QmailctlCheck, TcprulesAndNumbers) {
  run_cases({{"127.:allow,RELAYCLIENT=\"\"\n# c\n\n:allow\n", {}},
             {":allow\n1.2.3.4:frobnicate\n",
              {"T:2: not a tcprules line (ADDRESS:allow|deny[,VAR=\"value\"]...): "
               "\"1.2.3.4:frobnicate\""}}},
            [](const std::string& t, Findings& f) { check_tcprules("T", t, f); });
  run_cases({{"10\n", {}},
             {"0 \n", {}},
             {"ten\n", {"N:1: not a number: \"ten\" (the programs would use the default)"}},
             {"-1\n", {"N:1: not a number: \"-1\" (the programs would use the default)"}},
             {"", {"N:1: not a number: \"\" (the programs would use the default)"}}},
            [](const std::string& t, Findings& f) { check_number("N", t, f); });
}

TEST(QmailctlCheck, DotQmail) {
  const std::string fwd = ", a program or file line fails every delivery";
  run_cases({{"", {}},
             {"./Maildir/\n", {}},
             {"&a@b\n|cat\n/var/mail/x\n", {}},
             {"\n./Maildir/\n",
              {"Q:1: warning: blank first line (the file is not empty, so the default delivery "
               "is not used)"}},
             {"# only a comment\n",
              {"Q: no delivery instructions: mail to it is accepted and dropped"}},
             {"&a@b\n+list\n|cat\n", {"Q:3: after +list (line 2)" + fwd}}},
            [](const std::string& t, Findings& f) { check_dot_qmail("Q", t, false, f); });
  run_cases({{"&a@b\nc@d\n", {}},
             {"&a@b\n./Maildir/\n", {"X:2: in an executable (forward-only) file" + fwd}}},
            [](const std::string& t, Findings& f) { check_dot_qmail("X", t, true, f); });
}

TEST(QmailctlCheck, Delivered) {
  std::vector<std::string> locals = {"example.test", "localhost"};
  std::vector<std::string> vd = {"example.org:example.org", ".sub.test:sub", "jo@only.test:jo"};
  std::vector<std::string> routes = {"relay.test:mx.relay.test", ".far.test:"};
  struct Case {
    const char* domain;
    bool want;
  };
  const Case cases[] = {
      {"example.test", true}, {"LOCALHOST", true},  {"example.org", true},
      {"a.sub.test", true},   {".sub.test", true},  {"sub.test", false},
      {"only.test", false},   {"relay.test", true}, {"x.far.test", true},
      {"nowhere.test", false},
  };
  for (const auto& c : cases) EXPECT_EQ(delivered(c.domain, locals, vd, routes), c.want) << c.domain;
  EXPECT_TRUE(delivered("anything.test", locals, vd, {":smarthost"}));
}

TEST(QmailctlCheck, KnownControlNames) {
  for (const char* n : {"me", "rcpthosts", "virtualdomains", "servercert.pem", "tcp.smtp.cdb", "dkim"})
    EXPECT_TRUE(known_control_name(n)) << n;
  for (const char* n : {"rcpthost", "frobnicate", "tcp.smtp.tmp"}) EXPECT_FALSE(known_control_name(n)) << n;
}

}  // namespace
}  // namespace qng::ctl

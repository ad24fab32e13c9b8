// dotqmail_test.cc: qmail-local's pure logic: the .qmail search order,
// envelope lines, NEWSENDER, the program environment, instruction lines
// and the loop scan.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "../../../src/bin/qmail-local/local.h"

namespace qng::local {
namespace {

std::vector<std::string> names(const std::vector<Candidate>& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs) out.push_back(c.name);
  return out;
}

TEST(DotQmail, SearchOrder) {
  struct Case {
    const char* dash;
    const char* ext;
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {"", "", {".qmail", ".qmaildefault"}},
      {"-", "", {".qmail-", ".qmail-default"}},
      {"-", "a", {".qmail-a", ".qmail-default"}},
      {"-", "a-", {".qmail-a-", ".qmail-a-default", ".qmail-default"}},
      {"-", "a-b", {".qmail-a-b", ".qmail-a-default", ".qmail-default"}},
      {"-", "a-b-", {".qmail-a-b-", ".qmail-a-b-default", ".qmail-a-default", ".qmail-default"}},
      {"-", "foo-bar-baz",
       {".qmail-foo-bar-baz", ".qmail-foo-bar-default", ".qmail-foo-default", ".qmail-default"}},
      {"-/", "a-b-c",
       {".qmail-/a-b-c", ".qmail-/a-b-default", ".qmail-/a-default", ".qmail-/default"}},
  };
  for (const auto& c : cases)
    EXPECT_EQ(names(dotqmail_candidates(c.dash, safe_ext(c.ext))), c.want) << c.ext;
}

TEST(DotQmail, DefaultStartsWhereTheWordDefaultStands) {
  auto cs = dotqmail_candidates("-", safe_ext("Foo-Bar-Baz"));
  ASSERT_EQ(cs.size(), 4u);
  EXPECT_EQ(cs[0].default_at, std::nullopt);
  EXPECT_EQ(cs[1].default_at, 8u);  // .qmail-foo-bar-default: DEFAULT = "Baz"
  EXPECT_EQ(cs[2].default_at, 4u);  // DEFAULT = "Bar-Baz"
  EXPECT_EQ(cs[3].default_at, 0u);  // DEFAULT = "Foo-Bar-Baz"
  EXPECT_EQ(std::string("Foo-Bar-Baz").substr(*cs[1].default_at), "Baz");
  // An exact file whose name ends in "default" sets DEFAULT too, as qmail.
  auto exact = dotqmail_candidates("-", safe_ext("list-Default"));
  EXPECT_EQ(exact[0].default_at, 5u);
}

TEST(DotQmail, SafeExt) {
  EXPECT_EQ(safe_ext("Foo.Bar-BAZ"), "foo:bar-baz");
  EXPECT_EQ(safe_ext(""), "");
  EXPECT_EQ(safe_ext("a..b"), "a::b");
}

TEST(DotQmail, EnvelopeLines) {
  EXPECT_EQ(delivered_to_line("joe", "example.org"), "Delivered-To: joe@example.org\n");
  EXPECT_EQ(delivered_to_line("jo\ne", "ex"), "Delivered-To: jo_e@ex\n");
  EXPECT_EQ(return_path_line(""), "Return-Path: <>\n");
  EXPECT_EQ(return_path_line("a@b"), "Return-Path: <a@b>\n");
  EXPECT_EQ(return_path_line("a b@c"), "Return-Path: <\"a b\"@c>\n");
  EXPECT_EQ(return_path_line("#@[]"), "Return-Path: <#@[]>\n");
  Args a;
  a.local = "joe";
  a.host = "ex.org";
  a.sender = "";
  EnvelopeLines l = envelope_lines(a, 1709456701);  // 2024-03-03 09:05:01 UTC
  EXPECT_EQ(l.uf, "From MAILER-DAEMON Sun Mar 03 09:05:01 2024\n");
  a.sender = "a b\t@c";
  EXPECT_EQ(envelope_lines(a, 1709456701).uf, "From a-b-@c Sun Mar 03 09:05:01 2024\n");
}

TEST(DotQmail, NewSender) {
  struct Case {
    const char* sender;
    bool owner, owner_default;
    const char* want;
  };
  const Case cases[] = {
      {"a@b", false, false, "a@b"},
      {"a@b", true, false, "list-owner@ex.org"},
      {"a@b", true, true, "list-owner-@ex.org-@[]"},
      {"", true, true, ""},
      {"#@[]", true, false, "#@[]"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(new_sender(c.sender, "list", "ex.org", c.owner, c.owner_default), c.want)
        << c.sender << c.owner << c.owner_default;
  EXPECT_FALSE(owner_rules_apply(""));
  EXPECT_FALSE(owner_rules_apply("#@[]"));
  EXPECT_TRUE(owner_rules_apply("x@y"));
}

TEST(DotQmail, ExtAndHostParts) {
  struct Case {
    const char* in;
    int n;
    const char* want;
  };
  const Case ext[] = {
      {"a-b-c-d", 2, "b-c-d"}, {"a-b-c-d", 3, "c-d"}, {"a-b-c-d", 4, "d"},
      {"foo", 2, ""},          {"foo-", 2, ""},       {"", 4, ""},
      {"a-b", 4, ""},
  };
  for (const auto& c : ext) EXPECT_EQ(ext_part(c.in, c.n), c.want) << c.in << " " << c.n;
  const Case host[] = {
      {"a.b.c.d", 2, "a.b.c"}, {"a.b.c.d", 3, "a.b"}, {"a.b.c.d", 4, "a"},
      {"example.test", 2, "example"}, {"example.test", 3, "example"},
      {"localhost", 2, "localhost"}, {"", 3, ""}, {".x", 2, ""},
  };
  for (const auto& c : host) EXPECT_EQ(host_part(c.in, c.n), c.want) << c.in << " " << c.n;
}

TEST(DotQmail, Environment) {
  Args a;
  a.user = "u";
  a.homedir = "/h";
  a.local = "joe-x-y";
  a.ext = "x-y";
  a.host = "mx.ex.org";
  a.sender = "s@t";
  EnvelopeLines l{"DT\n", "RP\n", "UF\n"};
  Env env = delivery_env(a, l, "ns@t", std::string("y"));
  Env want = {
      {"HOST", "mx.ex.org"}, {"HOME", "/h"}, {"USER", "u"}, {"LOCAL", "joe-x-y"},
      {"RECIPIENT", "joe-x-y@mx.ex.org"}, {"DTLINE", "DT\n"}, {"SENDER", "s@t"},
      {"RPLINE", "RP\n"}, {"UFLINE", "UF\n"}, {"EXT", "x-y"}, {"EXT2", "y"}, {"EXT3", ""},
      {"EXT4", ""}, {"HOST2", "mx.ex"}, {"HOST3", "mx"}, {"HOST4", "mx"}, {"DEFAULT", "y"},
      {"NEWSENDER", "ns@t"},
  };
  EXPECT_EQ(env, want);
  Env without = delivery_env(a, l, "ns@t", std::nullopt);
  for (const auto& [k, v] : without) EXPECT_NE(k, "DEFAULT");
}

TEST(DotQmail, Instructions) {
  using K = Kind;
  struct Case {
    const char* text;
    std::vector<Instruction> want;
  };
  const Case cases[] = {
      {"./Maildir/\n", {{K::kMaildir, "./Maildir/"}}},
      {"./Mailbox", {{K::kMbox, "./Mailbox"}}},
      {"/var/mail/joe \t\n", {{K::kMbox, "/var/mail/joe"}}},
      {"/m/d/  \n", {{K::kMaildir, "/m/d/"}}},
      {"|preline procmail\n", {{K::kProgram, "preline procmail"}}},
      {"&bob@ex.org\nbob@ex.org\n", {{K::kForward, "bob@ex.org"}, {K::kForward, "bob@ex.org"}}},
      {"# c\n\n+list\n+other\n",
       {{K::kComment, "# c"}, {K::kBlank, ""}, {K::kForwardOnly, "list"}, {K::kIgnored, "other"}}},
      {"\n./M/", {{K::kBlank, ""}, {K::kMaildir, "./M/"}}},
      {"   \n", {{K::kBlank, ""}}},
      {"", {{K::kBlank, ""}}},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_instructions(c.text), c.want) << c.text;
  // A NUL cuts the argument, but the last byte still decides maildir/mbox.
  EXPECT_EQ(parse_instructions(std::string_view("|a\0b\n", 5)),
            (std::vector<Instruction>{{K::kProgram, "a"}}));
  EXPECT_EQ(parse_instructions(std::string_view("./a\0x/\n", 7)),
            (std::vector<Instruction>{{K::kMaildir, "./a"}}));
}

TEST(DotQmail, LoopScan) {
  using S = LoopScanner::State;
  const std::string dt = "Delivered-To: joe@ex.org\n";
  struct Case {
    const char* message;
    S want;
  };
  const Case cases[] = {
      {"Subject: x\nDelivered-To: joe@ex.org\n\nbody\n", S::kLooping},
      {"Delivered-To: joe@ex.org\n", S::kLooping},
      {"Subject: x\n\nDelivered-To: joe@ex.org\n", S::kHeaderEnd},      // in the body
      {"delivered-to: joe@ex.org\n\n", S::kHeaderEnd},                  // case matters
      {"Delivered-To: joe@ex.org \n\n", S::kHeaderEnd},                 // byte-identical only
      {"Delivered-To: joe@ex.org\r\n\n", S::kHeaderEnd},
      {"Delivered-To: joe@ex.orgx\n\n", S::kHeaderEnd},
      {"X-Delivered-To: joe@ex.org\n\n", S::kHeaderEnd},
      {"Subject: x\nDelivered-To: joe@ex.org", S::kMore},              // no LF: not a line
  };
  for (const auto& c : cases) {
    LoopScanner whole(dt);
    EXPECT_EQ(whole.feed(c.message), c.want) << c.message;
    // Byte by byte gives the same answer.
    LoopScanner bytes(dt);
    S got = S::kMore;
    for (const char* p = c.message; *p && got == S::kMore; ++p)
      got = bytes.feed(std::string_view(p, 1));
    EXPECT_EQ(got, c.want) << c.message;
  }
}

TEST(DotQmail, ProgramExitCodes) {
  struct Case {
    bool crashed;
    int code;
    int want;
    bool stop;
  };
  const Case cases[] = {
      {false, 0, 0, false},    {false, 99, 0, true},     {false, 100, 100, false},
      {false, 64, 100, false}, {false, 65, 100, false},  {false, 70, 100, false},
      {false, 76, 100, false}, {false, 77, 100, false},  {false, 78, 100, false},
      {false, 112, 100, false}, {false, 111, 111, false}, {false, 1, 111, false},
      {false, 66, 111, false}, {true, 9, 111, false},
  };
  for (const auto& c : cases) {
    bool stop = false;
    EXPECT_EQ(program_outcome(c.crashed, c.code, stop).code, c.want) << c.code;
    EXPECT_EQ(stop, c.stop) << c.code;
  }
}

}  // namespace
}  // namespace qng::local

// token822_test.cc: qmail-inject's RFC 822 lexer, address-list walker,
// folding printer and address rewriting, table-driven.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rewrite.h"
#include "token822.h"

namespace qng::inject {
namespace {

TEST(Token822, Tokenize) {
  struct Case {
    const char* in;
    Tokens want;
  };
  const Case cases[] = {
      {"a@b.c", {{Tok::kAtom, "a"}, {Tok::kAt, ""}, {Tok::kAtom, "b"}, {Tok::kDot, ""},
                 {Tok::kAtom, "c"}}},
      {" \t\r\n", {}},
      {"\"x y\\\"z\"", {{Tok::kQuote, "x y\"z"}}},
      {"(a (nested) b)", {{Tok::kComment, "a nested b"}}},
      {"[1.2.3.4]", {{Tok::kLiteral, "1.2.3.4"}}},
      {"<>;:,", {{Tok::kLeft, ""}, {Tok::kRight, ""}, {Tok::kSemi, ""}, {Tok::kColon, ""},
                 {Tok::kComma, ""}}},
      // An atom may hold ')' or ']' but is then printed quoted.
      {"a)b", {{Tok::kQuote, "a)b"}}},
      {"a\\.b", {{Tok::kAtom, "a.b"}}},
      {"a\\", {{Tok::kAtom, "a"}}},
      {"J\xc3\xb6rg", {{Tok::kQuote, "J\xc3\xb6rg"}}},
  };
  for (const auto& c : cases) {
    Tokens got;
    ASSERT_TRUE(tokenize(c.in, got)) << c.in;
    EXPECT_EQ(got, c.want) << c.in;
  }
}

TEST(Token822, TokenizeErrors) {
  for (const char* in : {"\"open", "(open", "((a)", "[open", ")a", "]", "\"a\\"}) {
    Tokens got;
    EXPECT_FALSE(tokenize(in, got)) << in;
  }
}

TEST(Token822, UnparseSpacingAndEscapes) {
  struct Case {
    const char* in;
    const char* want;
  };
  const Case cases[] = {
      {"To:a@b", "To: a@b\n"},
      {"To  :   a  @  b . c", "To: a@b.c\n"},
      {"From: Joe<j@x>", "From: Joe <j@x>\n"},
      {"From: \"a\\\\b\" (c\\)d) [e]", "From: \"a\\\\b\" (c\\)d) [e]\n"},
      {"To: a,b,c", "To: a, b, c\n"},
      {"To: x: ;", "To: x: ;\n"},
  };
  for (const auto& c : cases) {
    Tokens t;
    ASSERT_TRUE(tokenize(c.in, t)) << c.in;
    EXPECT_EQ(unparse(t), c.want) << c.in;
  }
}

TEST(Token822, UnparseFoldsAfterCommasPast80) {
  std::string in = "To: ";
  std::vector<std::string> addrs;
  for (int i = 0; i < 6; ++i) addrs.push_back(std::string(20, static_cast<char>('a' + i)) + "@x.y");
  for (size_t i = 0; i < addrs.size(); ++i) in += (i ? ", " : "") + addrs[i];
  Tokens t;
  ASSERT_TRUE(tokenize(in, t));
  // A line is joined while it stays within 80 bytes, counted (as qmail
  // does) with the 2 bytes of the break being removed: "To: a0, a1, a2,"
  // is 81 bytes, so the break after a1 stays.
  std::string want = "To: " + addrs[0] + ", " + addrs[1] + ",\n  " + addrs[2] + ", " + addrs[3] +
                     ",\n  " + addrs[4] + ", " + addrs[5] + "\n";
  EXPECT_EQ(unparse(t), want);
  // linelen 0: never folded.
  EXPECT_EQ(unparse(t, 0).find('\n'), unparse(t, 0).size() - 1);
}

TEST(Token822, Unquote) {
  Tokens t;
  ASSERT_TRUE(tokenize("\"a b\"@[1.2.3.4] (c)", t));
  EXPECT_EQ(unquote(t), "a b@[1.2.3.4]");
}

// Each address is passed to the callback; the rest stays.
TEST(Token822, AddressListWalk) {
  struct Case {
    const char* in;
    const char* want;                  // printed result, each address marked
    std::vector<std::string> addrs;    // in the order the callback sees them
  };
  const Case cases[] = {
      {"To: a@b", "To: X.a@b\n", {"a@b"}},
      {"To: a b", "To: X.a, X.b\n", {"b", "a"}},
      {"To: Joe <j@x>, k@y", "To: Joe <X.j@x>, X.k@y\n", {"k@y", "j@x"}},
      {"To: <>", "To: <X.>\n", {""}},
      {"To: list: a, b;", "To: list: X.a, X.b;\n", {"b", "a"}},
      {"To: a@b (Joe)", "To: X.a@b (Joe)\n", {"a@b"}},
      {"To: \"A B\" <a@b>", "To: \"A B\" <X.a@b>\n", {"a@b"}},
      {"To: x@y <a@b>", "To: x@y <X.a@b>\n", {"a@b"}},
      {"To: <@r:a@b>", "To: <X.@r: a@b>\n", {"@r:a@b"}},
      {"To:", "To:\n", {}},
  };
  for (const auto& c : cases) {
    Tokens in, out;
    ASSERT_TRUE(tokenize(c.in, in)) << c.in;
    std::vector<std::string> seen;
    auto fn = [&](Tokens& a) {
      seen.push_back(unquote(a));
      a.insert(a.begin(), {{Tok::kAtom, "X"}, {Tok::kDot, ""}});
    };
    ASSERT_TRUE(rewrite_address_list(in, out, fn)) << c.in;
    EXPECT_EQ(unparse(out), c.want) << c.in;
    EXPECT_EQ(seen, c.addrs) << c.in;
  }
}

TEST(Token822, AddressListErrors) {
  for (const char* in : {"To: @a:b@c", "To: a; b;", "To: a>", "To: <a", "To: x: y: z;;"}) {
    Tokens t, out;
    ASSERT_TRUE(tokenize(in, t)) << in;
    EXPECT_FALSE(rewrite_address_list(t, out, [](Tokens&) {})) << in;
  }
}

TEST(Rewrite, Address) {
  auto rules = RewriteRules::make("dh.example", "dd.example", "pd.example");
  ASSERT_TRUE(rules);
  auto host_only = RewriteRules::make("box", "dd.example", "pd.example");
  ASSERT_TRUE(host_only);
  struct Case {
    const char* in;
    const char* want;
    bool dotless_defaulthost = false;
  };
  const Case cases[] = {
      {"joe", "joe@dh.example"},
      {"joe@host", "joe@host.dd.example"},
      {"joe@host.sub", "joe@host.sub"},
      {"joe@host+", "joe@host.pd.example"},
      {"joe@a.b+", "joe@a.b.pd.example"},
      {"joe@[1.2.3.4]", "joe@[1.2.3.4]"},
      {"joe@", "joe@dh.example"},
      {"joe@host.", "joe@host.dd.example"},
      {"@a,@b:joe@c.d", "joe@c.d"},
      {"@a.b", ""},                          // a route and nothing else: <>
      {"", ""},
      {"pre@host-@[]", "pre@host-@[]"},      // VERP senders stay
      {"\"a b\"@x", "a b@x.dd.example"},
      {"joe", "joe@box.dd.example", true},   // defaulthost without a dot
  };
  for (const auto& c : cases) {
    Tokens t;
    ASSERT_TRUE(tokenize(c.in, t)) << c.in;
    rewrite_address(t, c.dotless_defaulthost ? *host_only : *rules);
    EXPECT_EQ(unquote(t), c.want) << c.in;
  }
}

TEST(Rewrite, BadNamesAreErrors) {
  auto r = RewriteRules::make("a(b", "x", "y");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().permanent());
}

}  // namespace
}  // namespace qng::inject

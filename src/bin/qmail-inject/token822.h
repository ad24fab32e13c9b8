// token822.h: RFC 822 header tokens as qmail's token822 sees them: the
// lexer, the address-list walker that finds every address of a field, and
// the printer that folds long fields after commas.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace qng::inject {

enum class Tok {
  kAtom, kQuote, kLiteral, kComment,               // words: carry text
  kComma, kAt, kDot, kLeft, kRight, kSemi, kColon  // specials
};

struct Token {
  Tok type;
  std::string text;  // unescaped contents of a word; empty for specials

  bool operator==(const Token&) const = default;
};
using Tokens = std::vector<Token>;

// qmail-inject folds rewritten fields so that lines stay near 80 bytes.
constexpr size_t kLineLen = 80;

// Splits text into tokens. Spaces, tabs, CR and LF separate tokens;
// "quoted strings", [literals] and (comments, nesting) keep their insides
// with backslash escapes resolved (nested parentheses are dropped, as in
// qmail). An atom holding bytes that cannot stand in an atom (controls,
// 8-bit, ')' ']' '\') becomes a quoted string. False on an unterminated
// quote, literal or comment, or a stray ')' or ']'.
bool tokenize(std::string_view text, Tokens& out);

// Prints tokens back: a space where two words meet, after ':' and ',' and
// before '<'; quotes, brackets and parentheses around words that need them
// with '"' '[' ']' '(' ')' '\' CR LF escaped. After each comma the line is
// broken ("\n  " continues it) when the line would otherwise pass
// `linelen` bytes (0: never). The result ends with one LF.
std::string unparse(const Tokens& tokens, size_t linelen = kLineLen);

// The address as the envelope holds it: words without their quoting,
// literals in brackets, comments dropped.
std::string unquote(const Tokens& tokens);

// Called with each address of a list (tokens in order, without the angle
// brackets, possibly empty for "<>"); it may rewrite the address in place.
using AddressFn = std::function<void(Tokens& address)>;

// Walks the address list of a field whose first two tokens are its name and
// its colon, qmail's way (right to left): "phrase <addr>", bare addresses,
// groups "name: a, b;", comments kept where they stand. Words that follow
// each other without a comma are separate addresses, and get a comma.
// `out` receives the whole field with each address as `fn` left it.
// False on a syntax error (a ':' outside a group, nested groups, '>'
// without '<', a stray '<').
bool rewrite_address_list(const Tokens& field, Tokens& out, const AddressFn& fn);

}  // namespace qng::inject

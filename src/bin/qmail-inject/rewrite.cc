// rewrite.cc: qmail-inject's address rewriting (qmail-header(5)).
#include "rewrite.h"

#include <algorithm>

namespace qng::inject {
namespace {

Result<Tokens> tokens_of(const std::string& text) {
  Tokens t;
  if (!tokenize(text, t)) return Error::perm("unable to parse this line:\n" + text + "\n");
  return t;
}

bool has(const Tokens& a, Tok type) {
  return std::any_of(a.begin(), a.end(), [&](const Token& t) { return t.type == type; });
}

void append(Tokens& a, const Tokens& more) { a.insert(a.end(), more.begin(), more.end()); }

// "@a,@b:box@host" -> "box@host": everything through the first colon goes.
void drop_route(Tokens& a) {
  if (a.front().type != Tok::kAt) return;
  auto colon =
      std::find_if(a.begin(), a.end(), [](const Token& t) { return t.type == Tok::kColon; });
  a.erase(a.begin(), colon == a.end() ? a.end() : colon + 1);
}

// Whether the host part (after the last '@') holds a token of this type.
bool host_has(const Tokens& a, Tok type) {
  for (auto it = a.rbegin(); it != a.rend() && it->type != Tok::kAt; ++it)
    if (it->type == type) return true;
  return false;
}

}  // namespace

Result<RewriteRules> RewriteRules::make(const std::string& defaulthost,
                                        const std::string& defaultdomain,
                                        const std::string& plusdomain) {
  RewriteRules r;
  auto h = tokens_of("@" + defaulthost);
  if (!h) return h.error();
  auto d = tokens_of("." + defaultdomain);
  if (!d) return d.error();
  auto p = tokens_of("." + plusdomain);
  if (!p) return p.error();
  r.default_host = std::move(*h);
  r.default_domain = std::move(*d);
  r.plus_domain = std::move(*p);
  return r;
}

void rewrite_address(Tokens& a, const RewriteRules& rules) {
  if (a.empty()) return;  // <>
  if (a.size() >= 2 && a.back().type == Tok::kLiteral && a.back().text.empty() &&
      a[a.size() - 2].type == Tok::kAt)
    return;  // box@[] (a VERP sender) stays as it is
  drop_route(a);
  if (a.empty()) return;  // <@foo:> -> <>
  if (a.back().type == Tok::kDot) a.pop_back();
  if (a.empty()) return;  // <.> -> <>
  if (a.back().type == Tok::kAt) a.pop_back();
  if (a.empty()) return;  // <@> -> <>

  if (!has(a, Tok::kAt)) append(a, rules.default_host);

  Token& last = a.back();
  if (last.type == Tok::kAtom && !last.text.empty() && last.text.back() == '+') {
    last.text.pop_back();
    append(a, rules.plus_domain);
  }

  if (!host_has(a, Tok::kDot) && !host_has(a, Tok::kLiteral)) append(a, rules.default_domain);
}

}  // namespace qng::inject

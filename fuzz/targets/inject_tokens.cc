// inject_tokens.cc: fuzz target for qmail-inject's RFC 822 token layer
// (src/bin/qmail-inject/token822.h and rewrite.h): the lexer, the printer,
// and the address-list walker with qmail-header(5)'s address rewriting, on
// the text of a header field.
#include <string>

#include "common/fuzz.h"
#include "rewrite.h"
#include "token822.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  using namespace qng::inject;
  fuzz::Cursor cur(fuzz::as_view(data, size));
  const size_t linelen = cur.byte() % 2 == 0 ? kLineLen : cur.byte() % 16;
  std::string_view text = cur.rest();

  static const RewriteRules rules = *RewriteRules::make("dh.example", "dd.example", "pd.example");

  Tokens tokens;
  if (tokenize(text, tokens)) {
    std::string printed = unparse(tokens, linelen);
    QNG_FUZZ_CHECK(!printed.empty() && printed.back() == '\n');
    (void)unquote(tokens);
    // What the printer writes, the lexer reads.
    Tokens again;
    QNG_FUZZ_CHECK(tokenize(printed, again));
  }

  Tokens field;
  if (!tokenize("To: " + std::string(text), field)) return 0;
  Tokens out;
  size_t seen = 0;
  bool ok = rewrite_address_list(field, out, [&](Tokens& address) {
    ++seen;
    (void)unquote(address);
    rewrite_address(address, rules);
    (void)unquote(address);
  });
  if (ok) {
    std::string printed = unparse(out, linelen);
    Tokens again;
    QNG_FUZZ_CHECK(tokenize(printed, again));
  }
  return 0;
}

// address.h: mail addresses: RFC 5321 paths, RFC 821 quoting, splitting.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace qng {

// Longest address accepted anywhere (qmail documents 1000; RFC 5321 path
// limit is 256 octets, but qmail's queue accepts up to 1000).
constexpr size_t kMaxAddress = 1000;

// The result of parsing the argument of MAIL FROM: or RCPT TO:.
struct SmtpPath {
  std::string address;                 // unquoted, source route dropped; "" for <>
  std::vector<std::string> params;     // ESMTP parameters after '>', as written
};

// Parses "FROM:<addr> PARAM=V ..." style text (the part after the verb's
// colon, e.g. "<a@b> SIZE=10"). Strict RFC 5321 with qmail's leniencies:
// spaces after the colon are allowed; a missing '<' falls back to qmail's
// rule (up to the first space); "@a,@b:" source routes are dropped; quoted
// local parts and backslash escapes are unquoted. Errors are permanent
// (EINVAL syntax, E2BIG longer than kMaxAddress).
Result<SmtpPath> parse_smtp_path(std::string_view arg);

// Quotes the local part as RFC 821 requires (qmail's quote.c): an address
// whose local part has specials, spaces, or dots in the wrong places gets
// "..." with \ and " escaped. The domain is kept as is.
std::string quote_address(std::string_view address);

// Splits at the last '@': local part and domain ("" domain when no '@').
struct AddressParts {
  std::string_view local;
  std::string_view domain;
  bool has_at;
};
AddressParts split_address(std::string_view address);

// ASCII lowercase copy.
std::string lowercase(std::string_view s);
// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b);

// A syntactically valid domain (labels of letters, digits, hyphens, or an
// address literal [1.2.3.4] / [IPv6:...]); UTF-8 labels allowed when utf8.
bool valid_domain(std::string_view domain, bool utf8 = false);

}  // namespace qng

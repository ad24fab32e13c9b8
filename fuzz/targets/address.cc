// address.cc: fuzz target for src/lib/address.h (the arguments of MAIL FROM
// and RCPT TO, RFC 821 quoting, domains) and src/lib/ip.h (address
// literals), all of which see bytes straight from SMTP clients.
#include <string>

#include "address.h"
#include "common/fuzz.h"
#include "ip.h"
#include "mbox.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  std::string_view in = fuzz::as_view(data, size);

  if (auto path = parse_smtp_path(in)) {
    QNG_FUZZ_CHECK(path->address.size() <= kMaxAddress);
    std::string quoted = quote_address(path->address);
    // What we quote, we can read back: the queue and the next hop see it.
    // (quote_address leaves the domain alone, so one holding SMTP's
    // specials cannot come back; qmail's quote.c is the same.)
    std::string_view domain = split_address(path->address).domain;
    if (domain.find_first_of("<>\"\\") == std::string_view::npos &&
        !path->address.empty() && quoted.size() <= kMaxAddress) {
      auto again = parse_smtp_path("<" + quoted + ">");
      if (again && again->address != path->address)
        std::fprintf(stderr, "parsed [%s] quoted [%s] reparsed [%s]\n", path->address.c_str(),
                     quoted.c_str(), again->address.c_str());
      if (again) QNG_FUZZ_CHECK(again->address == path->address);
    }
    (void)valid_domain(split_address(path->address).domain);
  }

  std::string quoted = quote_address(in);
  QNG_FUZZ_CHECK(quoted.size() >= in.size());
  AddressParts parts = split_address(in);
  QNG_FUZZ_CHECK(parts.local.size() + parts.domain.size() + (parts.has_at ? 1 : 0) == in.size());
  (void)valid_domain(in, false);
  (void)valid_domain(in, true);
  QNG_FUZZ_CHECK(iequals(lowercase(in), in));

  if (auto ip = parse_ip(in)) {
    auto again = parse_ip(format_ip(*ip));
    QNG_FUZZ_CHECK(again && *again == *ip);
  }
  if (auto ip = parse_ip_literal(in)) (void)format_ip(*ip);
  (void)mbox_needs_quote(in);
  return 0;
}

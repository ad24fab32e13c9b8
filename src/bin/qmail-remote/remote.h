// remote.h: one qmail-remote run (QMAIL-INTERFACES 12.2, docs/remote.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qng::remote {

// qmail-remote host sender recip...: delivers the message on fd 0 and
// returns the records to print (output.h). Never fails otherwise: every
// problem is a Z or D record.
std::string run(const std::vector<std::string>& args);

// The address as it goes between < and >: the local part quoted as RFC 821
// asks (qmail's quote.c), except that UTF-8 bytes need no quotes.
std::string smtp_address(std::string_view address);

}  // namespace qng::remote

// newmrh.h: the keys qmail-newmrh puts into control/morercpthosts.cdb.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qng {

constexpr size_t kMaxMoreRcptHostsBytes = 256u << 20;

// As qmail-newmrh: each line lowercased, trailing spaces, tabs and LF
// stripped; empty lines and lines starting with '#' skipped; in file order.
std::vector<std::string> morercpthosts_keys(std::string_view text);

}  // namespace qng

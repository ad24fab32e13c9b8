// netstring.h: D. J. Bernstein's netstrings, "<len>:<bytes>,".
#pragma once

#include <string>
#include <string_view>

#include "io.h"
#include "result.h"

namespace qng {

// Appends the netstring of `s` to `out`.
void append_netstring(std::string& out, std::string_view s);
std::string netstring(std::string_view s);

// Parses one netstring from the front of `in` and removes it from `in`.
// Errors are permanent (EPROTO: malformed; E2BIG: longer than max); a
// truncated netstring is EPROTO too. Leading zeros ("01:") are malformed.
Result<std::string_view> parse_netstring(std::string_view& in, size_t max);

// Reads one netstring from a stream. The length is checked against max
// before anything is allocated. End of input before the first byte is
// reported as EPIPE; anything else malformed as EPROTO.
Result<std::string> read_netstring(Reader& in, size_t max);

}  // namespace qng

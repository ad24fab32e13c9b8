// netstring.cc: D. J. Bernstein's netstrings, "<len>:<bytes>,".
//
// The length is parsed digit by digit against `max` (so it cannot overflow),
// and a length above max is refused before a byte of data is stored. The
// stream reader grows its buffer only as data arrives, so a peer that lies
// about the length cannot make us allocate it.
#include "netstring.h"

#include <algorithm>
#include <cerrno>

#include "size.h"

namespace qng {

namespace {

Error malformed(const char* what) {
  return Error::perm(std::string("malformed netstring: ") + what, EPROTO);
}
Error too_long() { return Error::perm("netstring too long", E2BIG); }

// One step of the length: v = v * 10 + digit, refusing values above max.
bool add_digit(size_t& v, char c, size_t max) {
  auto digit = static_cast<size_t>(c - '0');
  if (v > max / 10) return false;
  v *= 10;
  if (digit > max - v) return false;  // v <= max here, so this cannot wrap
  v += digit;
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

void append_netstring(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out.append(s);
  out += ',';
}

std::string netstring(std::string_view s) {
  std::string out;
  append_netstring(out, s);
  return out;
}

Result<std::string_view> parse_netstring(std::string_view& in, size_t max) {
  size_t i = 0;
  size_t len = 0;
  if (in.empty()) return malformed("empty input");
  if (!is_digit(in[0])) return malformed("no length");
  if (in[0] == '0' && in.size() > 1 && is_digit(in[1])) return malformed("leading zero");
  while (i < in.size() && is_digit(in[i])) {
    if (!add_digit(len, in[i], max)) return too_long();
    ++i;
  }
  if (i == in.size()) return malformed("truncated");
  if (in[i] != ':') return malformed("no colon");
  ++i;
  size_t left = in.size() - i;
  if (len >= left) return malformed("truncated");  // also needs the comma
  if (in[i + len] != ',') return malformed("no comma");
  std::string_view data = in.substr(i, len);
  in.remove_prefix(i + len + 1);
  return data;
}

Result<std::string> read_netstring(Reader& in, size_t max) {
  char c = 0;
  auto g = in.get(c);
  if (!g) return g.error();
  if (!*g) return Error::temp("end of input", EPIPE);
  if (!is_digit(c)) return malformed("no length");
  size_t len = 0;
  bool first_zero = c == '0';
  if (!add_digit(len, c, max)) return too_long();
  for (;;) {
    g = in.get(c);
    if (!g) return g.error();
    if (!*g) return malformed("truncated");
    if (!is_digit(c)) break;
    if (first_zero) return malformed("leading zero");
    if (!add_digit(len, c, max)) return too_long();
  }
  if (c != ':') return malformed("no colon");
  std::string data;
  constexpr size_t kChunk = 65536;
  while (data.size() < len) {
    size_t want = std::min(kChunk, len - data.size());
    size_t old = data.size();
    data.resize(old + want);
    auto r = in.read(data.data() + old, want);
    if (!r) return r.error();
    if (*r == 0) return malformed("truncated");
    data.resize(old + *r);
  }
  g = in.get(c);
  if (!g) return g.error();
  if (!*g) return malformed("truncated");
  if (c != ',') return malformed("no comma");
  return data;
}

}  // namespace qng

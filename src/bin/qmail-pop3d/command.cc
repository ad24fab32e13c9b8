// command.cc: POP3 command line splitting and number scanning.
#include "command.h"

namespace qng::pop3 {

Command split_command(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  line = line.substr(0, line.find('\0'));
  Command c;
  size_t space = line.find(' ');
  c.verb = std::string(line.substr(0, space));
  if (space != std::string_view::npos) {
    std::string_view arg = line.substr(space);
    while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
    c.arg = std::string(arg);
  }
  return c;
}

Number scan_number(std::string_view s) {
  Number n;
  for (char ch : s) {
    if (ch < '0' || ch > '9') break;
    uint64_t digit = static_cast<uint64_t>(ch - '0');
    if (n.value > (UINT64_MAX - digit) / 10)
      n.value = UINT64_MAX;
    else
      n.value = n.value * 10 + digit;
    ++n.digits;
  }
  return n;
}

}  // namespace qng::pop3

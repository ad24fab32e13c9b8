// pop3.cc: fuzz target for the POP3 command parsing qmail-popup and
// qmail-pop3d share (src/bin/qmail-pop3d/command.h): each line split into
// verb and argument, and the argument's number as qmail's scan_ulong reads
// it.
#include <string>

#include "command.h"
#include "common/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  using namespace qng::pop3;
  fuzz::Cursor cur(fuzz::as_view(data, size));
  for (int n = 0; n < 256 && !cur.empty(); ++n) {
    std::string line(cur.until('\n'));
    line.push_back('\n');
    Command c = split_command(line);
    QNG_FUZZ_CHECK(c.verb.find(' ') == std::string::npos);
    QNG_FUZZ_CHECK(c.verb.find('\0') == std::string::npos && c.arg.find('\0') == std::string::npos);
    QNG_FUZZ_CHECK(c.arg.empty() || c.arg.front() != ' ');
    Number num = scan_number(c.arg);
    QNG_FUZZ_CHECK(num.digits <= c.arg.size());
    if (num.digits == 0) QNG_FUZZ_CHECK(num.value == 0);
    size_t sp = c.arg.find(' ');
    if (sp != std::string::npos) (void)scan_number(std::string_view(c.arg).substr(sp + 1));
  }
  return 0;
}

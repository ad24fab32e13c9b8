// tcprules rules.cdb rules.tmp: reads tcpserver rules on stdin and writes
// them, compiled, to rules.tmp, then moves rules.tmp over rules.cdb (see
// tcprules(1) and src/lib/tcprules.h for the format).
// Exit codes: 0 done; 100 usage or a line that does not parse (rules.cdb is
// left alone); 111 unable to read input, write rules.tmp or move it.
#include <cerrno>
#include <string>
#include <string_view>

#include "fd.h"
#include "io.h"
#include "tcprules.h"

namespace {

constexpr char kUsage[] =
    "usage: tcprules rules.cdb rules.tmp\n"
    "Reads rules such as 127.:allow,RELAYCLIENT=\"\" and :deny on standard input,\n"
    "writes them compiled to rules.tmp, then renames rules.tmp to rules.cdb.\n";

int fatal(int code, const std::string& what) {
  (void)qng::write_all(2, "tcprules: fatal: " + what + "\n");
  return code;
}

int run(const std::string& cdb, const std::string& tmp) {
  auto writer = qng::RulesWriter::create(cdb, tmp);
  if (!writer) return fatal(111, writer.error().message());
  qng::Reader in(0);
  std::string line;
  for (;;) {
    auto got = in.read_line(line, qng::kRuleLineMax);
    if (!got) {
      if (got.error().code() == E2BIG) return fatal(100, "unable to parse this line: line too long");
      return fatal(111, "unable to read input: " + got.error().message());
    }
    if (line.empty()) break;
    auto records = qng::parse_rule_line(line);
    if (!records) return fatal(100, records.error().message());
    for (const auto& r : *records)
      if (auto st = writer->add(r); !st) return fatal(111, st.error().message());
  }
  if (auto st = writer->finish(); !st) return fatal(111, st.error().message());
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc == 2 && std::string_view(argv[1]) == "--help") {
    (void)qng::write_all(1, kUsage);
    return 0;
  }
  if (argc < 3 || argv[1][0] == '\0' || argv[2][0] == '\0') {
    (void)qng::write_all(2, "tcprules: usage: tcprules rules.cdb rules.tmp\n");
    return 100;
  }
  return run(argv[1], argv[2]);
} catch (...) {
  return fatal(111, "out of memory");
}

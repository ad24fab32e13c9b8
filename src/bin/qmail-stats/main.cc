// qmail-stats [--html] [--since TIME] [--until TIME] [--top N] [FILE...]:
// qmailanalog's reports over qmail-send log lines (see qmail-stats(8)).
//
// Reads the FILEs in order, or standard input; writes the report (text, or
// one HTML page) on standard output. Exit 0; 100 usage; 111 an input that
// cannot be read, a report that cannot be written, or no memory.
#include <string_view>
#include <vector>

#include "fd.h"
#include "run.h"

int main(int argc, char** argv) try {
  std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  auto opt = qng::stats::parse_args(args);
  if (!opt) {
    (void)qng::write_all(2, "qmail-stats: " + opt.error().context() + "\n");
    (void)qng::write_all(2, qng::stats::kUsage);
    return 100;
  }
  if (opt->help) return qng::write_all(1, qng::stats::kUsage) ? 0 : 111;
  return qng::stats::run(*opt);
} catch (...) {
  (void)qng::write_all(2, "qmail-stats: fatal: out of memory\n");
  return 111;
}

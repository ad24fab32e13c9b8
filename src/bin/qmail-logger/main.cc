// qmail-logger LOGDIR: stamp each line of stdin with TAI64N and append it
// to LOGDIR/current, rotating by size (multilog style). See qmail-logger(8).
// Exit codes: 0 at end of input, 100 usage, 111 LOGDIR unusable.
#include <string>
#include <string_view>

#include "fd.h"
#include "logger.h"

namespace {

constexpr char kUsage[] =
    "usage: qmail-logger LOGDIR\n"
    "Appends each line of standard input to LOGDIR/current, prefixed with a\n"
    "TAI64N time stamp; rotates current past 1 MiB, keeping 10 old files.\n";

}  // namespace

int main(int argc, char** argv) try {
  if (argc == 2 && std::string_view(argv[1]) == "--help") {
    (void)qng::write_all(1, kUsage);
    return 0;
  }
  if (argc != 2 || argv[1][0] == '\0') {
    (void)qng::write_all(2, kUsage);
    return 100;
  }
  return qng::run_logger(argv[1]);
} catch (...) {
  (void)qng::write_all(2, "qmail-logger: fatal: out of memory\n");
  return 111;
}

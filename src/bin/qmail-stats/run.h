// run.h: qmail-stats's arguments, input and output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "matchup.h"
#include "report.h"
#include "result.h"

namespace qng::stats {

inline constexpr size_t kMaxLine = 65536;  // longer lines are cut

struct Options {
  bool help = false;
  bool html = false;
  Window window;
  size_t top = 50;
  std::vector<std::string> files;  // empty: standard input; "-" too
};

// Parses the arguments after argv[0]; a usage error is a permanent Error
// whose context says what is wrong.
Result<Options> parse_args(const std::vector<std::string_view>& args);

// A TIME of --since/--until as unix microseconds: "@" TAI64N, unix seconds
// "1700000000[.5]", or UTC "YYYY-MM-DD[ HH:MM[:SS]]" ("T" between them and
// a final "Z" allowed).
std::optional<int64_t> parse_time(std::string_view s);

// Feeds every line of fd to m (lines past kMaxLine are cut).
Status feed_fd(int fd, Matchup& m);

// Reads the files (or fd 0), writes the report to fd 1; the exit code.
// Trouble is reported on fd 2: 111 when an input cannot be read or the
// report cannot be written.
int run(const Options& opt);

extern const char kUsage[];

}  // namespace qng::stats

// command.h: POP3 command lines as qmail's commands() reads them, shared by
// qmail-popup and qmail-pop3d.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qng::pop3 {

// Longest command line read, CRLF included (RFC 2449 allows 255 octets; we
// take more, and drop the connection past this).
constexpr size_t kMaxCommandLine = 1024;
// Idle timeout of every read and write, as qmail's.
constexpr int kTimeoutMs = 1200 * 1000;

// The implementation name in CAPA answers.
constexpr std::string_view kImplementation = "IMPLEMENTATION qmail-ng";

struct Command {
  std::string verb;  // as sent; compare with iequals
  std::string arg;   // after the first space, leading spaces skipped
};

// Splits one line as qmail's commands(): drops the LF and then one CR, cuts
// at the first NUL, splits at the first space, skips spaces before the
// argument.
Command split_command(std::string_view line);

// qmail's scan_ulong: the leading decimal digits of s. `digits` is how
// many there were (0: not a number); a value past UINT64_MAX saturates.
struct Number {
  size_t digits = 0;
  uint64_t value = 0;
};
Number scan_number(std::string_view s);

}  // namespace qng::pop3

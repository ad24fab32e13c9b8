// logtext.h: qmail-send's activity log (qmail-log format) on fd 0.
#pragma once

#include <string>
#include <string_view>

namespace qng::send {

// Makes text safe for one log line, as qmail's logsafe: a newline becomes
// '/'; '%', space, control bytes and bytes above 126 become '_'. The text
// ends at its first NUL.
std::string log_safe(std::string_view text);

// Writes whole lines to a descriptor (the logger's pipe). A line is written
// with one write(2), so it is never interleaved; a failing logger loses the
// line rather than stopping deliveries.
class Log {
 public:
  explicit Log(int fd) : fd_(fd) {}
  // `line` without its newline.
  void line(std::string_view line) const;

 private:
  int fd_;
};

}  // namespace qng::send

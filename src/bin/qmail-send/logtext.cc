// logtext.cc: log-text mangling and the log writer.
#include "logtext.h"

#include "fd.h"

namespace qng::send {

std::string log_safe(std::string_view text) {
  text = text.substr(0, text.find('\0'));
  std::string out(text);
  for (char& c : out) {
    if (c == '\n') {
      c = '/';
      continue;
    }
    auto u = static_cast<unsigned char>(c);
    if (c == '%' || u < 33 || u > 126) c = '_';
  }
  return out;
}

void Log::line(std::string_view line) const {
  std::string s;
  s.reserve(line.size() + 1);
  s.append(line);
  s += '\n';
  (void)write_all(fd_, s);  // nowhere to report a broken logger
}

}  // namespace qng::send

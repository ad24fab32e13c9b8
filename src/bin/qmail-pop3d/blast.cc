// blast.cc: the message transformation, byte-compatible with qmail's blast.
#include "blast.h"

namespace qng::pop3 {

bool Blaster::feed(std::string_view chunk, std::string& out) {
  if (stopped_) return false;
  size_t i = 0;
  while (i < chunk.size()) {
    if (bol_) {
      // A line begins: qmail counts body lines before printing them.
      if (limit_ != 0 && !inheaders_ && --limit_ == 0) {
        stopped_ = true;
        return false;
      }
      if (chunk[i] == '\n') {
        inheaders_ = false;
        out += "\r\n";
        ++i;
        continue;
      }
      if (chunk[i] == '.') out += '.';
      bol_ = false;
    }
    size_t nl = chunk.find('\n', i);
    if (nl == std::string_view::npos) {
      out.append(chunk.substr(i));
      return true;
    }
    out.append(chunk.substr(i, nl - i));
    out += "\r\n";
    i = nl + 1;
    bol_ = true;
  }
  return true;
}

void Blaster::finish(std::string& out) {
  if (!bol_) out += "\r\n";
  bol_ = true;
  out += "\r\n.\r\n";
}

}  // namespace qng::pop3

// blast.h: a message as POP3 sends it (qmail-pop3d's blast): LF becomes
// CRLF, a line starting with '.' gets another '.', and the end is an empty
// line and the "." line. With a line limit (TOP), the header and the first
// lines of the body only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qng::pop3 {

class Blaster {
 public:
  // limit 0: the whole message; else header, empty line, limit - 1 body
  // lines (TOP n k passes k + 1, as qmail).
  explicit Blaster(uint64_t limit = 0) : limit_(limit) {}

  // Appends the POP3 form of the next bytes of the message to out. False
  // once the limit is reached: the rest of the message is not wanted.
  bool feed(std::string_view chunk, std::string& out);
  // Ends the last line if it had no LF, then appends "\r\n.\r\n".
  void finish(std::string& out);

 private:
  uint64_t limit_;
  bool bol_ = true;        // at the beginning of a line
  bool inheaders_ = true;  // no empty line seen yet
  bool stopped_ = false;
};

}  // namespace qng::pop3

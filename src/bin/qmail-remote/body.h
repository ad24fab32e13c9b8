// body.h: a stored message as SMTP DATA bytes (QMAIL-INTERFACES 12.2
// item 6, with our fixes).
//
// Every line break goes out as CRLF: LF, CRLF and a bare CR each end one
// line (a bare CR is never copied: a receiver that takes it for a line end
// would otherwise see an unstuffed dot). A '.' that starts a line after ANY
// emitted break is doubled. A last line without LF gets CRLF (qmail refused
// such a message with #5.6.2). Then ".\r\n".
#pragma once

#include <string>
#include <string_view>

namespace qng::remote {

class BodyEncoder {
 public:
  // Appends the SMTP bytes for the next piece of the message to out.
  void feed(std::string_view in, std::string& out);
  // Appends the end: CRLF for a partial last line, then ".\r\n".
  void finish(std::string& out);

 private:
  bool at_line_start_ = true;
  bool pending_cr_ = false;
};

// The whole encoding of a message held in memory (tests).
std::string encode_body(std::string_view message);

// True when the message has a byte with the high bit set (BODY=8BITMIME).
bool has_8bit(std::string_view data);

}  // namespace qng::remote

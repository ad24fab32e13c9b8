// mbox.h: the mbox format qmail writes (qmail-local, maildir2mbox).
//
// A message in an mbox is a From_ line, the message with every line that
// matches ^>*From quoted by one more '>' (mboxrd), a LF added if the last
// line lacks one, and one empty line.
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>

namespace qng {

// qmail's gfrom: true when the line (with or without its LF) matches
// ^>*From (with the space).
bool mbox_needs_quote(std::string_view line);

// The From_ line "From SENDER Sun Mar 03 09:05:01 2024\n": an empty sender
// is MAILER-DAEMON; space, tab and LF in the sender become '-'; the date
// is ctime_gmt(t).
std::string mbox_from_line(std::string_view sender, time_t t);

// Streams a message into its mbox form, chunk by chunk, holding back at
// most 4 bytes (a partial "From " at the start of a line). A '>' added
// anywhere in the leading run of '>' gives the same bytes as one added in
// front, so the run itself is never held back.
class MboxQuoter {
 public:
  // Appends the quoted form of chunk to out.
  void feed(std::string_view chunk, std::string& out);
  // Ends the message: the held-back bytes, then a LF if the message is not
  // empty and does not end in one. (The empty separator line is the
  // caller's.)
  void finish(std::string& out);

 private:
  bool line_start_ = true;  // only '>' seen since the start of the line
  size_t matched_ = 0;      // bytes of "From " matched after that run
  bool empty_ = true;
  char last_ = '\n';
};

}  // namespace qng

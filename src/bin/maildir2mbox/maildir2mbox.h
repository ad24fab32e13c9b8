// maildir2mbox.h: moving a maildir's messages into an mbox.
#pragma once

#include <string>

namespace qng {

// How the move ended: exit code and the line for fd 2 ("" for none).
struct MoveOutcome {
  int code = 0;
  std::string text;
};

// $MAILDIR's new/ and cur/ messages, oldest first, appended to $MAIL (locked)
// through a copy at $MAILTMP renamed over $MAIL; then the moved messages are
// removed. Warnings go to fd 2 as they happen.
MoveOutcome maildir2mbox();

}  // namespace qng

// maildir_list.h: what qmail-pop3d serves of a Maildir: tmp cleanup and the
// list of messages in new/ and cur/, oldest first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace qng::pop3 {

// At most this many messages are listed per session: the oldest ones. The
// rest show up once those are retrieved and deleted.
constexpr size_t kMaxMessages = 100000;
// Files in tmp/ not accessed for this long are leftovers of broken
// deliveries (the Maildir rule: 36 hours).
constexpr time_t kTmpAge = 36 * 60 * 60;

struct Message {
  std::string fn;     // "new/NAME" or "cur/NAME:2,FLAGS", relative to the Maildir
  uint64_t size = 0;  // bytes on disk (LF line ends), as qmail reports
  time_t mtime = 0;
  bool deleted = false;
};

// Removes tmp/ files (names not starting with '.') whose last access is
// more than kTmpAge before now. Best effort, as qmail's maildir_clean.
void clean_tmp(const std::string& maildir, time_t now);

// The regular files of maildir/new and maildir/cur whose names do not start
// with '.' and whose mtime is before now (a message delivered this very
// second waits for the next session, so the order cannot get mixed up),
// sorted by mtime, then name; at most max_messages, the oldest. fn is
// relative to maildir. An unreadable new/ or cur/ is an error.
Result<std::vector<Message>> list_maildir(const std::string& maildir, time_t now,
                                          size_t max_messages = kMaxMessages);

// The UIDL of a message: its file name without "new/" or "cur/" and without
// the ":info" part.
std::string_view unique_name(std::string_view fn);

}  // namespace qng::pop3

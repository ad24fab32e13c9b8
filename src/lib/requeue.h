// requeue.h: queueing the message of a .qmail delivery anew (qmail's
// forward and condredirect): $DTLINE in front of the message on fd 0, a new
// envelope, through qmail-queue.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace qng {

struct Requeued {
  pid_t qp = 0;     // qmail-queue's pid, which its log lines name
  std::string qqx;  // "" queued, else qmail-queue's 'D'/'Z' text
};

// Starts qmail-queue for `home`, writes dtline, copies fd 0 to its end,
// then the envelope. Errors: qmail-queue cannot be started, or fd 0 cannot
// be read ("unable to read message: why").
Result<Requeued> requeue(const std::string& home, std::string_view dtline,
                         std::string_view sender, const std::vector<std::string>& recipients);

}  // namespace qng

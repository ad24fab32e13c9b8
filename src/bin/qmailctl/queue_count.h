// queue_count.h: what qmail-qstat counts, read directly from queue/.
#pragma once

#include <string>

#include "result.h"

namespace qng::ctl {

struct QueueCounts {
  unsigned long long messages = 0;  // files in queue/mess/*/
  unsigned long long todo = 0;      // files in queue/todo/
};

Result<QueueCounts> queue_counts(const std::string& dir);

}  // namespace qng::ctl

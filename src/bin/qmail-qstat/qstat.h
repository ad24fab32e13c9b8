// qstat.h: counting queue files for qmail-qstat.
#pragma once

#include <string>

#include "result.h"

namespace qng {

struct QueueCounts {
  unsigned long messages = 0;       // files in mess/*/
  unsigned long unprocessed = 0;    // files in todo/
};

// Counts, with cwd = the queue directory.
Result<QueueCounts> count_queue();

// qmail-qstat's two lines.
std::string format_counts(const QueueCounts& c);

}  // namespace qng

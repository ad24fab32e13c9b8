// qstat.cc: what qmail's qmail-qstat script counts with find and wc.
#include "qstat.h"

#include <dirent.h>

#include <cerrno>
#include <string>

#include "queue.h"

namespace qng {
namespace {

// Entries of dir other than . and ..
Result<unsigned long> count_entries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return Error::last("unable to opendir " + dir);
  unsigned long n = 0;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") ++n;
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err) return Error::sys(err, "unable to read " + dir);
  return n;
}

}  // namespace

Result<QueueCounts> count_queue() {
  QueueCounts c;
  for (unsigned long s = 0; s < kQueueSplit; ++s) {
    auto n = count_entries("mess/" + std::to_string(s));
    if (!n) return n.error();
    c.messages += *n;
  }
  auto t = count_entries("todo");
  if (!t) return t.error();
  c.unprocessed = *t;
  return c;
}

std::string format_counts(const QueueCounts& c) {
  return "messages in queue: " + std::to_string(c.messages) +
         "\nmessages in queue but not yet preprocessed: " + std::to_string(c.unprocessed) +
         "\n";
}

}  // namespace qng

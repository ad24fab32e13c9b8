// queue.cc: qmailctl queue (qmail-qstat, then qmail-qread) and the queue
// counts that stat prints.
#include <dirent.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands.h"
#include "failure.h"
#include "proc.h"
#include "queue.h"
#include "queue_count.h"
#include "say.h"

namespace qng::ctl {

namespace {

Result<unsigned long long> count_entries(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return Error::last("unable to list " + path);
  unsigned long long n = 0;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return Error::sys(err, "unable to list " + path);
  return n;
}

}  // namespace

Result<QueueCounts> queue_counts(const std::string& dir) {
  QueueCounts c;
  for (unsigned long i = 0; i < kQueueSplit; ++i) {
    auto n = count_entries(dir + "/queue/mess/" + std::to_string(i));
    if (!n) return n.error();
    c.messages += *n;
  }
  auto t = count_entries(dir + "/queue/todo");
  if (!t) return t.error();
  c.todo = *t;
  return c;
}

int run_queue(const std::string& dir) {
  // Both programs find the instance through $QMAILHOME.
  if (::setenv("QMAILHOME", dir.c_str(), 1) != 0) return fatal(Error::last("unable to setenv"));
  int worst = kExitOk;
  for (const char* prog : {"qmail-qstat", "qmail-qread"}) {
    auto r = run_wait({dir + "/bin/" + prog}, std::nullopt, dir);
    if (!r) return fatal(r.error());
    if (*r == 127) return fatal(kExitTemp, std::string("no ") + dir + "/bin/" + prog);
    if (*r != 0) worst = kExitTemp;
  }
  return worst;
}

}  // namespace qng::ctl

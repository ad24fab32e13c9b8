// queuedir.cc: readdir over the queue's flat and split directories.
#include "queuedir.h"

#include <dirent.h>

#include <cerrno>
#include <memory>

#include "queue.h"
#include "size.h"

namespace qng::send {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

// With split >= 0 only names N with N mod 23 == split count: a file in the
// wrong subdirectory is not where qmail's programs look for it.
Status list_into(const std::string& dir, std::vector<uint64_t>& out, long split = -1) {
  std::unique_ptr<DIR, DirCloser> d(::opendir(dir.c_str()));
  if (!d) return Error::last("unable to opendir " + dir);
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(d.get());
    if (!e) {
      if (errno != 0) return Error::last("unable to read " + dir);
      return {};
    }
    auto n = parse_decimal(e->d_name);
    if (!n) continue;
    if (split >= 0 && *n % kQueueSplit != static_cast<unsigned long>(split)) continue;
    out.push_back(*n);
  }
}

}  // namespace

Result<std::vector<uint64_t>> list_flat(const std::string& dir) {
  std::vector<uint64_t> ids;
  if (auto s = list_into(dir, ids); !s) return s.error();
  return ids;
}

Result<std::vector<uint64_t>> list_split(const std::string& dir) {
  std::vector<uint64_t> ids;
  for (unsigned long s = 0; s < kQueueSplit; ++s)
    if (auto st = list_into(dir + "/" + std::to_string(s), ids, static_cast<long>(s)); !st)
      return st.error();
  return ids;
}

std::string split_name(uint64_t id) {
  return std::to_string(id % kQueueSplit) + "/" + std::to_string(id);
}

}  // namespace qng::send

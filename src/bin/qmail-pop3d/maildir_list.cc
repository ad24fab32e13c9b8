// maildir_list.cc: tmp cleanup and the bounded, sorted message list.
#include "maildir_list.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <queue>

namespace qng::pop3 {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using Dir = std::unique_ptr<DIR, DirCloser>;

bool older(const Message& a, const Message& b) {
  if (a.mtime != b.mtime) return a.mtime < b.mtime;
  return a.fn < b.fn;
}

std::string prefix_of(const std::string& maildir) {
  return maildir.empty() || maildir == "." ? std::string() : maildir + "/";
}

}  // namespace

void clean_tmp(const std::string& maildir, time_t now) {
  const std::string tmp = prefix_of(maildir) + "tmp";
  Dir dir(::opendir(tmp.c_str()));
  if (!dir) return;
  while (struct dirent* d = ::readdir(dir.get())) {
    if (d->d_name[0] == '.') continue;
    const std::string path = tmp + "/" + d->d_name;
    struct stat st;
    if (::lstat(path.c_str(), &st) == -1) continue;
    if (now > st.st_atime && now - st.st_atime > kTmpAge) ::unlink(path.c_str());
  }
}

Result<std::vector<Message>> list_maildir(const std::string& maildir, time_t now,
                                          size_t max_messages) {
  // A max-heap of the oldest max_messages seen so far: memory stays bounded
  // however many files the directories hold.
  auto newer_on_top = [](const Message& a, const Message& b) { return older(a, b); };
  std::priority_queue<Message, std::vector<Message>, decltype(newer_on_top)> keep(newer_on_top);
  const std::string prefix = prefix_of(maildir);
  for (const char* sub : {"new", "cur"}) {
    const std::string path = prefix + sub;
    Dir dir(::opendir(path.c_str()));
    if (!dir) return Error::last("unable to scan " + path);
    for (;;) {
      errno = 0;
      struct dirent* d = ::readdir(dir.get());
      if (!d) {
        if (errno != 0) return Error::last("unable to scan " + path);
        break;
      }
      if (d->d_name[0] == '.') continue;
      Message m;
      m.fn = std::string(sub) + "/" + d->d_name;
      struct stat st;
      if (::stat((prefix + m.fn).c_str(), &st) == -1) continue;  // gone meanwhile
      if (!S_ISREG(st.st_mode) || st.st_mtime >= now) continue;
      m.size = static_cast<uint64_t>(st.st_size);
      m.mtime = st.st_mtime;
      if (max_messages == 0) continue;
      if (keep.size() < max_messages) {
        keep.push(std::move(m));
      } else if (older(m, keep.top())) {
        keep.pop();
        keep.push(std::move(m));
      }
    }
  }
  std::vector<Message> out;
  out.reserve(keep.size());
  while (!keep.empty()) {
    out.push_back(keep.top());
    keep.pop();
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string_view unique_name(std::string_view fn) {
  if (fn.size() >= 4) fn.remove_prefix(4);
  return fn.substr(0, fn.find(':'));
}

}  // namespace qng::pop3

// logger.cc: qmail-logger's logic.
#include "logger.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "lock.h"
#include "tai64n.h"

namespace qng {

namespace {

constexpr size_t kReadChunk = 65536;
constexpr unsigned kRetrySeconds = 1;

void complain(std::string_view what) {
  std::string s = "qmail-logger: warning: ";
  s.append(what).push_back('\n');
  (void)write_all(2, s);
}

void pause_retry() {
  struct timespec ts {kRetrySeconds, 0};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace

void LineStamper::feed(std::string_view data, const std::string& stamp, std::string& out) {
  while (!data.empty()) {
    if (!open_) {
      partial_ = stamp;
      partial_.push_back(' ');
      partial_len_ = 0;
      open_ = true;
    }
    size_t room = max_line_ - partial_len_;
    size_t nl = data.find('\n');
    if (nl != std::string_view::npos && nl <= room) {
      out.append(partial_).append(data.substr(0, nl)).push_back('\n');
      open_ = false;
      data.remove_prefix(nl + 1);
      continue;
    }
    if (room == 0) {  // a byte past the cap: end the line, the rest is a new one
      out.append(partial_).push_back('\n');
      open_ = false;
      continue;
    }
    size_t take = std::min(room, data.size());
    partial_.append(data.substr(0, take));
    partial_len_ += take;
    data.remove_prefix(take);
  }
}

void LineStamper::finish(std::string& out) {
  if (!open_) return;
  out.append(partial_).push_back('\n');
  open_ = false;
}

Result<std::vector<std::string>> rotated_files(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return Error::last("unable to list " + dir);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() == 27 && n[0] == '@' && n.compare(25, 2, ".s") == 0) names.push_back(n);
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return Error::sys(err, "unable to list " + dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> files_to_prune(const std::vector<std::string>& sorted, size_t keep) {
  if (sorted.size() <= keep) return {};
  return std::vector<std::string>(sorted.begin(),
                                  sorted.begin() + static_cast<long>(sorted.size() - keep));
}

Status LogDir::open() {
  if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST)
    return Error::last("unable to mkdir " + dir_);
  auto lock = lock_file(dir_ + "/lock", 0644, true);
  if (!lock) return Error::sys(lock.error().code(), "unable to lock " + dir_ + "/lock");
  lock_ = std::move(*lock);
  return open_current();
}

Status LogDir::open_current() {
  std::string path = dir_ + "/current";
  auto fd = open_append(path, 0644);
  if (!fd) return Error::sys(fd.error().code(), "unable to open " + path);
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return Error::last("unable to stat " + path);
  // current is 0644 even under a tight umask (multilog makes it 0644).
  if ((st.st_mode & 07777) != 0644 && ::fchmod(fd->get(), 0644) != 0)
    return Error::last("unable to chmod " + path);
  current_ = std::move(*fd);
  size_ = static_cast<size_t>(st.st_size);
  return {};
}

Status LogDir::write(std::string_view text) {
  if (auto st = write_all(current_.get(), text); !st)
    return Error::sys(st.error().code(), "unable to write " + dir_ + "/current");
  size_ += text.size();
  if (size_ > rotate_bytes_) return rotate();
  return {};
}

Status LogDir::sync() { return fsync_fd(current_.get(), dir_ + "/current"); }

// current -> @<tai64n>.s (durably), a fresh current, the oldest pruned.
Status LogDir::rotate() {
  if (auto st = sync(); !st) return st;
  std::string name = tai64n_now() + ".s";
  std::string from = dir_ + "/current";
  std::string to = dir_ + "/" + name;
  if (::rename(from.c_str(), to.c_str()) != 0) return Error::last("unable to rename " + from);
  if (::chmod(to.c_str(), 0744) != 0) return Error::last("unable to chmod " + to);
  if (auto st = open_current(); !st) return st;
  if (auto st = fsync_dir(dir_); !st) return st;
  auto names = rotated_files(dir_);
  if (!names) return names.error();
  for (const auto& old : files_to_prune(*names, keep_)) {
    std::string p = dir_ + "/" + old;
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return Error::last("unable to remove " + p);
  }
  return {};
}

int run_logger(const std::string& dir) {
  LogDir log(dir);
  if (auto st = log.open(); !st) {
    std::string s = "qmail-logger: fatal: " + st.error().message() + "\n";
    (void)write_all(2, s);
    return 111;
  }
  LineStamper stamper;
  std::string buf(kReadChunk, '\0');
  std::string out;
  for (;;) {
    auto n = read_some(0, buf.data(), buf.size());
    bool eof = false;
    out.clear();
    if (!n) {
      complain(n.error().message());
      eof = true;  // an unreadable stdin will not mend
    } else if (*n == 0) {
      eof = true;
    } else {
      stamper.feed(std::string_view(buf.data(), *n), tai64n_now(), out);
    }
    if (eof) stamper.finish(out);
    while (!out.empty()) {
      auto st = log.write(out);
      if (st) break;
      // Retry the whole batch: a partial append may repeat some lines,
      // which beats losing them.
      complain(st.error().message() + "; pausing");
      pause_retry();
    }
    if (eof) break;
  }
  for (;;) {
    auto st = log.sync();
    if (st) break;
    complain(st.error().message() + "; pausing");
    pause_retry();
  }
  return 0;
}

}  // namespace qng

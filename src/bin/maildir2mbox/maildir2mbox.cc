// maildir2mbox.cc: qmail's maildir2mbox. Order of work: chdir $MAILDIR,
// clean tmp/, list new/ and cur/ (oldest first), lock $MAIL, write $MAIL's
// old contents and then every message (From_ line from the Return-Path,
// mboxrd quoting, blank line) to $MAILTMP, fsync, rename over $MAIL, fsync
// the directory, and only then remove the messages from the maildir.
#include "maildir2mbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "date.h"
#include "fd.h"
#include "io.h"
#include "lock.h"
#include "mbox.h"

namespace qng {
namespace {

constexpr const char* kFatal = "maildir2mbox: fatal: ";
constexpr const char* kWarning = "maildir2mbox: warning: ";
constexpr time_t kTmpLifetime = 129600;  // tmp/ files unread for 36 hours go
constexpr size_t kChunk = 65536;
constexpr size_t kMaxFirstLine = 65536;  // longer: no Return-Path to read

struct Message {
  time_t mtime;
  std::string name;  // "new/..." or "cur/..."
};

MoveOutcome fatal(const std::string& text) { return {111, kFatal + text}; }
std::string why(int err) { return std::strerror(err); }

// qmail's maildir_clean: errors are ignored, this is housekeeping.
void clean_tmp() {
  DIR* dir = ::opendir("tmp");
  if (!dir) return;
  const time_t now = ::time(nullptr);
  while (const dirent* d = ::readdir(dir)) {
    if (d->d_name[0] == '.') continue;
    std::string name = std::string("tmp/") + d->d_name;
    struct stat st {};
    if (::stat(name.c_str(), &st) == 0 && now > st.st_atime + kTmpLifetime)
      ::unlink(name.c_str());
  }
  ::closedir(dir);
}

// qmail's maildir_scan: messages of this second are left for next time, so
// that a later run never puts an older message after a newer one.
MoveOutcome scan(const char* subdir, time_t now, std::vector<Message>& out) {
  DIR* dir = ::opendir(subdir);
  if (!dir) {
    int err = errno;
    return fatal(std::string("unable to scan $MAILDIR/") + subdir + ": " + why(err));
  }
  errno = 0;
  while (const dirent* d = ::readdir(dir)) {
    if (d->d_name[0] != '.') {
      std::string name = std::string(subdir) + "/" + d->d_name;
      struct stat st {};
      if (::stat(name.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < now)
        out.push_back({st.st_mtime, std::move(name)});
    }
    errno = 0;
  }
  int err = errno;
  ::closedir(dir);
  if (err) return fatal(std::string("unable to read $MAILDIR/") + subdir + ": " + why(err));
  return {};
}

// The From_ line from the first line: "Return-Path: <addr>\n" gives
// "From addr " (space and tab -> '-'), "<>" gives MAILER-DAEMON, anything
// else "From XXX "; then the date.
std::string from_line(std::string_view first, time_t mtime) {
  std::string uf = "From XXX ";
  constexpr std::string_view kRp = "Return-Path: <";
  if (!first.empty() && first.back() == '\n' && first.starts_with(kRp)) {
    if (first.size() > kRp.size() && first[kRp.size()] == '>') {
      uf = "From MAILER-DAEMON ";
    } else {
      uf = "From ";
      for (size_t i = kRp.size(); i + 2 < first.size(); ++i)  // drop ">\n"
        uf.push_back(first[i] == ' ' || first[i] == '\t' ? '-' : first[i]);
      uf += ' ';
    }
  }
  return uf + ctime_gmt(mtime) + "\n";
}

// Appends one message in mbox form.
MoveOutcome append_message(const Message& m, Writer& out, const std::string& mboxtmp) {
  auto opened = open_read(m.name);
  if (!opened)
    return fatal("unable to read $MAILDIR/" + m.name + ": " + why(opened.error().code()));
  auto read_error = [&](int err) {
    return fatal("unable to read $MAILDIR/" + m.name + ": " + why(err));
  };

  // The first line, as far as kMaxFirstLine, decides the From_ line.
  std::string head;
  std::string buf(kChunk, '\0');
  bool eof = false;
  while (head.find('\n') == std::string::npos && head.size() < kMaxFirstLine) {
    auto n = read_some(opened->get(), buf.data(), buf.size());
    if (!n) return read_error(n.error().code());
    if (*n == 0) {
      eof = true;
      break;
    }
    head.append(buf.data(), *n);
  }
  size_t lf = head.find('\n');
  std::string_view first;
  if (lf != std::string::npos) first = std::string_view(head).substr(0, lf + 1);
  out.put(from_line(first, m.mtime));

  MboxQuoter quoter;
  std::string quoted;
  quoter.feed(head, quoted);
  out.put(quoted);
  while (!eof && !out.failed()) {
    auto n = read_some(opened->get(), buf.data(), buf.size());
    if (!n) return read_error(n.error().code());
    if (*n == 0) break;
    quoted.clear();
    quoter.feed(std::string_view(buf.data(), *n), quoted);
    out.put(quoted);
  }
  quoted.clear();
  quoter.finish(quoted);
  out.put(quoted);
  out.put('\n');
  if (out.failed()) return fatal("unable to write to " + mboxtmp + ": " + why(out.error().code()));
  return {};
}

}  // namespace

MoveOutcome maildir2mbox() {
  const char* mail = std::getenv("MAIL");
  if (!mail) return fatal("MAIL not set");
  const char* mailtmp = std::getenv("MAILTMP");
  if (!mailtmp) return fatal("MAILTMP not set");
  const char* maildir = std::getenv("MAILDIR");
  if (!maildir) return fatal("MAILDIR not set");
  const std::string mbox = mail;
  const std::string mboxtmp = mailtmp;
  if (::chdir(maildir) == -1) {
    int err = errno;
    return fatal(std::string("unable to chdir to ") + maildir + ": " + why(err));
  }

  clean_tmp();
  std::vector<Message> messages;
  const time_t now = ::time(nullptr);
  if (auto o = scan("new", now, messages); o.code) return o;
  if (auto o = scan("cur", now, messages); o.code) return o;
  if (messages.empty()) return {};  // nothing new
  std::stable_sort(messages.begin(), messages.end(), [](const Message& a, const Message& b) {
    return a.mtime != b.mtime ? a.mtime < b.mtime : a.name < b.name;
  });

  auto lock = open_append(mbox, 0600);
  if (!lock) return fatal("unable to lock " + mbox + ": " + why(lock.error().code()));
  if (auto s = lock_exclusive(lock->get(), true); !s)
    return fatal("unable to lock " + mbox + ": " + why(s.error().code()));

  auto old = open_read(mbox);
  if (!old) return fatal("unable to read " + mbox + ": " + why(old.error().code()));
  auto fresh = open_write(mboxtmp, 0600);
  if (!fresh) return fatal("unable to create " + mboxtmp + ": " + why(fresh.error().code()));
  auto write_error = [&](int err) {
    return fatal("unable to write to " + mboxtmp + ": " + why(err));
  };

  Writer out(fresh->get(), 0, kChunk);
  std::string buf(kChunk, '\0');
  for (;;) {
    auto n = read_some(old->get(), buf.data(), buf.size());
    if (!n) return fatal("unable to read " + mbox + ": " + why(n.error().code()));
    if (*n == 0) break;
    out.put(std::string_view(buf.data(), *n));
    if (out.failed()) return write_error(out.error().code());
  }
  for (const Message& m : messages)
    if (auto o = append_message(m, out, mboxtmp); o.code) return o;
  if (auto f = out.flush(); !f) return write_error(f.error().code());
  if (auto s = fsync_fd(fresh->get(), mboxtmp); !s) return write_error(s.error().code());
  if (auto s = fresh->close(); !s) return write_error(s.error().code());
  if (::rename(mboxtmp.c_str(), mbox.c_str()) == -1) {
    int err = errno;
    return fatal("unable to move " + mboxtmp + " to " + mbox + ": " + why(err));
  }
  // The new mbox must be on disk before the messages leave the maildir.
  if (auto s = fsync_dir(dir_of(mbox)); !s)
    return fatal("unable to sync the directory of " + mbox + ": " + why(s.error().code()));

  for (const Message& m : messages) {
    if (::unlink(m.name.c_str()) == -1) {
      int err = errno;
      (void)write_all(2, std::string(kWarning) + "$MAILDIR/" + m.name + " not removed: " +
                             why(err) + "\n");
    }
  }
  return {};
}

}  // namespace qng

// cleanup.cc: requests to qmail-clean, and the scan that removes messages
// left in states S2/S3 (mess without todo and info) by a qmail-queue that
// died: once their mess file is kOssified seconds old (36 h, beyond
// qmail-queue's own 24 h alarm, so nothing is still writing them).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "failure.h"
#include "queue.h"
#include "queuedir.h"
#include "send.h"

namespace qng::send {
namespace {

constexpr size_t kCleanupBatch = 64;  // mess files looked at per loop turn

}  // namespace

// One command, one answer byte; '+' is the only success.
bool QmailSend::clean(const std::string& what) {
  if (!clean_alive_) return false;
  std::string cmd = what;
  cmd += '\0';
  char answer = 0;
  if (!write_all(kCleanOut, cmd)) {
    clean_died();
    return false;
  }
  auto r = read_some(kCleanIn, &answer, 1);
  if (!r || *r != 1) {
    clean_died();
    return false;
  }
  if (answer != '+') {
    log("warning: qmail-clean unable to clean up " + what);
    return false;
  }
  return true;
}

void QmailSend::clean_died() {
  log("alert: oh no! lost qmail-clean connection! dying...");
  clean_alive_ = false;
  begin_exit(kExitTemp);
}

void QmailSend::cleanup_selprep(time_t& wakeup) {
  if (exitasap_) return;
  if (cleanup_scanning_) wakeup = recent_;
  wakeup = std::min(wakeup, cleanuptime_);
}

void QmailSend::cleanup_do() {
  if (exitasap_) return;
  if (!cleanup_scanning_) {
    if (recent_ < cleanuptime_) return;
    auto ids = list_split("mess");
    if (!ids) {
      log("alert: unable to opendir mess, sleeping...");
      cleanuptime_ = recent_ + kSleepAlert;
      return;
    }
    cleanup_ids_ = std::move(*ids);
    cleanup_pos_ = 0;
    cleanup_scanning_ = true;
  }
  for (size_t n = 0; n < kCleanupBatch; ++n) {
    if (cleanup_pos_ >= cleanup_ids_.size()) {
      cleanup_scanning_ = false;
      cleanup_ids_.clear();
      cleanuptime_ = recent_ + kSleepCleanup;
      return;
    }
    uint64_t id = cleanup_ids_[cleanup_pos_++];
    struct stat st;
    if (::stat(mess_path(id).c_str(), &st) == -1) continue;  // qmail-queue removed it
    // The later of atime and mtime: a file still being written is young.
    time_t age_base = std::max(st.st_atime, st.st_mtime);
    if (recent_ <= age_base + kOssified) continue;
    if (::stat(info_path(id).c_str(), &st) == 0 || errno != ENOENT) continue;
    if (::stat(todo_path(id).c_str(), &st) == 0 || errno != ENOENT) continue;
    clean("foop/" + std::to_string(id));
    if (!clean_alive_) return;
  }
}

}  // namespace qng::send

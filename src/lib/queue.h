// queue.h: qmail's queue layout (QMAILHOME/queue), shared by qmail-queue,
// qmail-send, qmail-clean, qmail-qread and qmailctl. See docs/INTERNALS.md.
#pragma once

#include <cstdint>
#include <string>

namespace qng {

// conf-split: hashed directories mess/S/N, info/S/N, local/S/N, remote/S/N.
constexpr unsigned long kQueueSplit = 23;

// The split subdirectories and the flat ones, relative to the queue dir.
constexpr const char* kSplitDirs[] = {"mess", "info", "local", "remote"};
constexpr const char* kFlatDirs[] = {"pid", "intd", "todo", "bounce", "lock"};

// Messages left in states S2/S3 (mess without todo/info) are removed once
// their mess file is this old; it must exceed qmail-queue's 24 h alarm.
constexpr long kOssified = 129600;
constexpr unsigned kQueueAlarm = 86400;

inline std::string split_path(const char* dir, unsigned long long n) {
  return std::string(dir) + "/" + std::to_string(n % kQueueSplit) + "/" + std::to_string(n);
}
inline std::string flat_path(const char* dir, unsigned long long n) {
  return std::string(dir) + "/" + std::to_string(n);
}
inline std::string mess_path(unsigned long long n) { return split_path("mess", n); }
inline std::string info_path(unsigned long long n) { return split_path("info", n); }
inline std::string local_path(unsigned long long n) { return split_path("local", n); }
inline std::string remote_path(unsigned long long n) { return split_path("remote", n); }
inline std::string intd_path(unsigned long long n) { return flat_path("intd", n); }
inline std::string todo_path(unsigned long long n) { return flat_path("todo", n); }
inline std::string bounce_path(unsigned long long n) { return flat_path("bounce", n); }

}  // namespace qng

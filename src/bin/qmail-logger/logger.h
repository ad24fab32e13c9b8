// logger.h: qmail-logger's logic: stamping lines and the log directory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fd.h"
#include "result.h"

namespace qng {

constexpr size_t kLogLineMax = 8192;              // longer lines are split
constexpr size_t kLogRotateBytes = size_t{1} << 20;  // current rotates past this
constexpr size_t kLogKeep = 10;                   // rotated files kept

// Cuts a byte stream into stamped lines: "STAMP " + line + "\n". A line is
// stamped with the stamp given when its first byte arrived; a line reaching
// kLogLineMax bytes without a newline ends there and the rest starts a new
// line.
class LineStamper {
 public:
  explicit LineStamper(size_t max_line = kLogLineMax) : max_line_(max_line) {}
  // Appends the complete lines in `data` to `out`, keeping a partial one.
  void feed(std::string_view data, const std::string& stamp, std::string& out);
  // At end of input: the partial line, if any, with a newline added.
  void finish(std::string& out);

 private:
  size_t max_line_;
  std::string partial_;  // stamp + " " + bytes so far, when open_
  size_t partial_len_ = 0;
  bool open_ = false;
};

// The rotated files' names in dir ("@<tai64n>.s"), sorted oldest first.
Result<std::vector<std::string>> rotated_files(const std::string& dir);
// Which of the sorted names to delete to keep the newest `keep`.
std::vector<std::string> files_to_prune(const std::vector<std::string>& sorted, size_t keep);

// LOGDIR: holds LOGDIR/lock while open; appends to LOGDIR/current; rotates.
class LogDir {
 public:
  LogDir(std::string dir, size_t rotate_bytes = kLogRotateBytes, size_t keep = kLogKeep)
      : dir_(std::move(dir)), rotate_bytes_(rotate_bytes), keep_(keep) {}
  // Makes the directory (0755) if missing, locks it, opens current (0644).
  Status open();
  // Appends, then rotates if current has grown past the limit.
  Status write(std::string_view text);
  // fsyncs current.
  Status sync();

 private:
  Status open_current();
  Status rotate();

  std::string dir_;
  size_t rotate_bytes_;
  size_t keep_;
  Fd lock_;
  Fd current_;
  size_t size_ = 0;
};

// qmail-logger's main loop: stdin to the directory until end of file.
// Write errors are retried (multilog's way: the writer waits, nothing is
// dropped); 0 at end of input, 111 when the directory cannot be opened.
int run_logger(const std::string& dir);

}  // namespace qng

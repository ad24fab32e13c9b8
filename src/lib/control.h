// control.h: qmail's control files (QMAILHOME/control), qmail's semantics.
//
// Single-value files use only their first line, with trailing spaces, tabs
// and CR stripped. List files skip empty lines and lines starting with '#'.
// Numbers: a missing file or a non-numeric first line yields the default.
// A file that exists but cannot be read is an error (temporary unless the
// errno says otherwise), never silently a default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "result.h"

namespace qng {

class Control {
 public:
  // dir is the control directory, e.g. "/var/qmail/control" or "control".
  explicit Control(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // First line, or nullopt when the file does not exist.
  Result<std::optional<std::string>> line(const std::string& name) const;
  // First line; if the file is missing: control/me when use_me and me
  // exists, else `fallback` (qmail's control_rldef).
  Result<std::string> line_or(const std::string& name, bool use_me,
                              const std::string& fallback) const;
  // Every non-empty, non-comment line, trailing whitespace stripped; empty
  // when the file does not exist.
  Result<std::vector<std::string>> lines(const std::string& name) const;
  // Whether the file exists (a read error other than ENOENT is an error).
  Result<bool> exists(const std::string& name) const;
  // A non-negative number; missing or non-numeric -> fallback.
  Result<uint64_t> number(const std::string& name, uint64_t fallback) const;
  // The whole file, capped (E2BIG past max_bytes); nullopt when missing.
  Result<std::optional<std::string>> contents(const std::string& name,
                                              size_t max_bytes = 1 << 20) const;

 private:
  std::string dir_;
};

// Strips trailing spaces, tabs, CR and LF.
std::string strip_trailing_space(std::string s);

}  // namespace qng

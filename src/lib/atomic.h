// atomic.h: replace a file atomically and durably.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "result.h"

namespace qng {

// Writes `data` to path + ".tmp" (created fresh), fsyncs it, renames it over
// `path`, and fsyncs the directory. On failure the tmp file is removed and
// `path` is untouched.
Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode);

// Reads a whole file, failing with E2BIG past max_bytes.
Result<std::string> read_file(const std::string& path, size_t max_bytes);

}  // namespace qng

// cdb.h: constant databases, byte-compatible with D. J. Bernstein's cdb.
//
// Format: 2048-byte header of 256 (position, slots) pairs, little-endian
// 32-bit; records (klen, dlen, key, data); then 256 hash tables of 8-byte
// slots (hash, position). Hash: h = 5381; h = ((h << 5) + h) ^ c.
// A reader bounds-checks every position against the file size: a corrupt
// file is an error (EPROTO, temporary), never a read out of bounds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fd.h"
#include "result.h"

namespace qng {

uint32_t cdb_hash(std::string_view key);

class CdbReader {
 public:
  // Opens and maps the file. ENOENT is reported as such so callers can
  // treat a missing database as "no entries".
  static Result<CdbReader> open(const std::string& path);
  static Result<CdbReader> from_fd(Fd fd);

  CdbReader(CdbReader&&) noexcept;
  CdbReader& operator=(CdbReader&&) noexcept;
  ~CdbReader();

  // The data of the first record with this key, or nullopt.
  Result<std::optional<std::string>> find(std::string_view key) const;
  // The data of every record with this key, in insertion order.
  Result<std::vector<std::string>> find_all(std::string_view key) const;
  // Every (key, data) record in file order (for dumps and tests).
  Result<std::vector<std::pair<std::string, std::string>>> dump() const;

 private:
  CdbReader() = default;
  const unsigned char* map_ = nullptr;
  size_t size_ = 0;
};

class CdbWriter {
 public:
  // Writes to path + ".tmp"; finish() fsyncs it, renames it over `path` and
  // fsyncs the directory. Destroying an unfinished writer removes the tmp.
  static Result<CdbWriter> create(const std::string& path, mode_t mode = 0644);

  CdbWriter(CdbWriter&&) noexcept;
  CdbWriter& operator=(CdbWriter&&) noexcept;
  ~CdbWriter();

  // Fails with EFBIG (permanent) when the database would pass 4 GiB.
  Status add(std::string_view key, std::string_view data);
  Status finish();

 private:
  CdbWriter() = default;
  struct Impl;
  Impl* impl_ = nullptr;
};

}  // namespace qng

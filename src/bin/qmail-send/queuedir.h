// queuedir.h: listing message numbers in queue directories.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "result.h"

namespace qng::send {

// The numbers N of the entries of a flat directory (todo/): names made of
// digits only; anything else (dot files, stray names) is skipped.
Result<std::vector<uint64_t>> list_flat(const std::string& dir);
// The same over the split subdirectories dir/0 .. dir/22 (info/, mess/),
// keeping only N found in dir/(N mod 23).
Result<std::vector<uint64_t>> list_split(const std::string& dir);

// "S/N", the message's path relative to queue/mess (and info/, local/...).
std::string split_name(uint64_t id);

}  // namespace qng::send

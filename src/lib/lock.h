// lock.h: advisory locks with flock(2).
#pragma once

#include <string>

#include "fd.h"
#include "result.h"

namespace qng {

// Exclusive lock on fd; wait = false fails at once with EWOULDBLOCK when
// another holder has it; timeout_s > 0 bounds the wait (ETIMEDOUT).
Status lock_exclusive(int fd, bool wait, unsigned timeout_s = 0);
Status lock_shared(int fd, bool wait);
Status unlock(int fd);

// Opens (creating, mode) and exclusively locks a lock file; the lock lasts
// as long as the returned Fd.
Result<Fd> lock_file(const std::string& path, mode_t mode, bool wait);

}  // namespace qng

// qread.h: qmail-qread's listing.
#pragma once

#include "io.h"

namespace qng {

// Lists every preprocessed message (info/S/N), cwd = the queue directory,
// in qmail-qread's format; returns the exit code (0, or 111 after a fatal
// "unable to opendir" line).
int list_queue(Writer& out);

}  // namespace qng

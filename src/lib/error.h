// error.h: the single table of transient errno values, as qmail's error_temp.
#pragma once

namespace qng {

// True when a failure with this errno may go away by itself, so the work
// should be retried later (SMTP 4xx, exit 111). Unknown values are permanent
// only for the few errno values listed as such; everything not in the table
// of temporary errors counts as permanent, exactly as qmail's error_temp.
bool is_temp(int err);

}  // namespace qng

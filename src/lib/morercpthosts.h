// morercpthosts.h: control/morercpthosts -> control/morercpthosts.cdb, as
// qmail-newmrh makes it. Shared by qmail-newmrh and `qmailctl cdb`; read by
// qmail-smtpd (key = the lowercased host or .suffix, data empty).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace qng {

constexpr size_t kMaxMoreRcptHostsBytes = size_t{256} << 20;  // control/morercpthosts

// qmail-newmrh's reading of one line (without its LF): trailing spaces, tabs
// and LFs stripped, ASCII lowercased; nullopt for an empty line or one
// starting with '#'. Nothing else is touched (a CR stays, as in qmail).
std::optional<std::string> morercpthosts_key(std::string_view line);

// The keys of a whole file, in file order; a last line without LF counts.
std::vector<std::string> morercpthosts_keys(std::string_view text);

// Writes the keys of `text` to the cdb at `cdb` (through cdb + ".tmp",
// fsynced, renamed, directory fsynced; mode 0644). On failure the old cdb
// is left as it was.
Status write_morercpthosts_cdb(std::string_view text, const std::string& cdb);

}  // namespace qng

// compile.h: the compiled files of an instance (qmail-newu, qmail-newmrh).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "result.h"

namespace qng::ctl {

// users/assign -> users/cdb (qmail-newu): atomic, untouched on a format error.
Status compile_users(const std::string& dir);
// control/morercpthosts -> control/morercpthosts.cdb (qmail-newmrh), when
// control/morercpthosts exists; nothing otherwise.
Status compile_morercpthosts(const std::string& dir);

// qmail-newmrh's reading of one line: trailing spaces, tabs and newlines
// stripped, lowercased; nullopt for an empty line or a '#' comment.
std::optional<std::string> morercpthosts_key(std::string_view line);

}  // namespace qng::ctl

// showctl.h: what qmail-showctl prints: the build's settings, then every
// control file with its meaning, its value or "(Default.)" and the default.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace qng::showctl {

// A user's or group's id by name; nullopt when there is none.
using IdFn = std::function<std::optional<unsigned long>(const std::string& name)>;

struct Ids {
  IdFn user;
  IdFn group;
};

// Ids from the system's user and group databases.
Ids system_ids();

// The whole report for the instance at `home`. Sets `ok` false (exit 111)
// when the control directory cannot be read at all.
std::string report(const std::string& home, const Ids& ids, bool& ok);

}  // namespace qng::showctl

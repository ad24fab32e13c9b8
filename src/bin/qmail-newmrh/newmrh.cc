// newmrh.cc: control/morercpthosts -> the keys of morercpthosts.cdb.
#include "newmrh.h"

namespace qng {

std::vector<std::string> morercpthosts_keys(std::string_view text) {
  std::vector<std::string> keys;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    std::string key(line);
    for (char& c : key)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace qng

// morercpthosts.cc: qmail-newmrh's keys and database.
#include "morercpthosts.h"

#include <utility>

#include "cdb.h"

namespace qng {

std::optional<std::string> morercpthosts_key(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\n'))
    line.remove_suffix(1);
  if (line.empty() || line.front() == '#') return std::nullopt;
  std::string key(line);
  for (char& c : key)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return key;
}

std::vector<std::string> morercpthosts_keys(std::string_view text) {
  std::vector<std::string> keys;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (auto key = morercpthosts_key(line)) keys.push_back(std::move(*key));
  }
  return keys;
}

Status write_morercpthosts_cdb(std::string_view text, const std::string& cdb) {
  auto w = CdbWriter::create(cdb, 0644);
  if (!w) return w.error();
  for (const auto& key : morercpthosts_keys(text))
    if (auto st = w->add(key, ""); !st) return st;
  return w->finish();
}

}  // namespace qng

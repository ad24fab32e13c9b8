// assign.cc: users/assign -> users/cdb (qmail-newu) and the users/cdb
// lookup of qmail-lspawn.
#include "assign.h"

#include <cerrno>
#include <cstdint>

#include "size.h"

namespace qng {

namespace {

constexpr uint64_t kMaxId = 0xfffffffeu;  // (uid_t)-1 means "no change"

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

Error bad_line(size_t line, const std::string& what) {
  return Error::perm("line " + std::to_string(line) + ": " + what);
}

Error bad_cdb(const std::string& what) {
  return Error::temp("users/cdb: " + what, EPROTO);
}

}  // namespace

Result<std::vector<AssignEntry>> parse_assign(std::string_view text) {
  std::vector<AssignEntry> out;
  size_t lineno = 0;
  for (;;) {
    ++lineno;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    // As qmail-newu: a line starting with '.' ends the list, even unterminated.
    if (!line.empty() && line[0] == '.') break;
    if (nl == std::string_view::npos) return bad_line(lineno, "missing final line \".\"");
    text.remove_prefix(nl + 1);

    if (line.find('\0') != std::string_view::npos) return bad_line(lineno, "NUL byte");
    if (line.empty() || (line[0] != '=' && line[0] != '+'))
      return bad_line(lineno, "not an = or + line");
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return bad_line(lineno, "no colon");

    AssignEntry e;
    e.line = lineno;
    e.wildcard = line[0] == '+';
    e.local = std::string(line.substr(1, colon - 1));
    std::string* fields[6] = {&e.user, &e.uid, &e.gid, &e.home, &e.dash, &e.ext};
    std::string_view rest = line.substr(colon + 1);
    // Six more fields, each ended by ':'; qmail-newu ignores what follows.
    for (std::string* f : fields) {
      size_t c = rest.find(':');
      if (c == std::string_view::npos)
        return bad_line(lineno, "too few fields (each of the 7 ends with ':')");
      *f = std::string(rest.substr(0, c));
      rest.remove_prefix(c + 1);
    }
    if (!parse_decimal(e.uid, kMaxId)) return bad_line(lineno, "uid is not a number");
    if (!parse_decimal(e.gid, kMaxId)) return bad_line(lineno, "gid is not a number");
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> assign_cdb_records(
    const std::vector<AssignEntry>& entries) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string wildchars;
  out.reserve(entries.size() + 1);
  for (const auto& e : entries) {
    std::string key = "!" + lowercase(e.local);
    if (e.wildcard) {
      // qmail-newu stores the last character as written while qmail-lspawn
      // looks for it lowercased, so a prefix ending in a capital never
      // matched there; we store it lowercased, as the key is.
      if (!e.local.empty()) {
        char last = lower(e.local.back());
        if (wildchars.find(last) == std::string::npos) wildchars += last;
      }
    } else {
      key += '\0';
    }
    std::string value;
    for (const std::string* f : {&e.user, &e.uid, &e.gid, &e.home, &e.dash}) {
      value += *f;
      value += '\0';
    }
    value += e.ext;
    out.emplace_back(std::move(key), std::move(value));
  }
  out.emplace_back(std::string(), std::move(wildchars));
  return out;
}

Status compile_assign(std::string_view text, const std::string& path) {
  auto entries = parse_assign(text);
  if (!entries) return entries.error();
  auto w = CdbWriter::create(path, 0644);
  if (!w) return w.error();
  for (const auto& [key, value] : assign_cdb_records(*entries)) {
    if (auto s = w->add(key, value); !s) return s;
  }
  return w->finish();
}

Result<std::optional<Assignment>> assign_lookup(const CdbReader& cdb, std::string_view local) {
  auto wild = cdb.find("");
  if (!wild) return wild.error();
  if (!wild->has_value()) return bad_cdb("no record of wildcard characters");
  const std::string& wildchars = **wild;

  std::string key = "!" + lowercase(local);
  key += '\0';
  size_t i = key.size();
  bool flagwild = false;
  do {
    // i > 0; the first round tries the exact key, later rounds prefixes.
    if (!flagwild || i == 1 || wildchars.find(key[i - 1]) != std::string::npos) {
      auto hit = cdb.find(std::string_view(key).substr(0, i));
      if (!hit) return hit.error();
      if (hit->has_value()) {
        std::string_view v = **hit;
        std::string f[5];
        for (auto& field : f) {
          size_t z = v.find('\0');
          if (z == std::string_view::npos) return bad_cdb("too few fields");
          field = std::string(v.substr(0, z));
          v.remove_prefix(z + 1);
        }
        if (v.find('\0') != std::string_view::npos) return bad_cdb("too many fields");
        auto uid = parse_decimal(f[1], kMaxId);
        auto gid = parse_decimal(f[2], kMaxId);
        if (!uid || !gid) return bad_cdb("uid or gid is not a number");
        Assignment a;
        a.user = std::move(f[0]);
        a.uid = static_cast<uid_t>(*uid);
        a.gid = static_cast<gid_t>(*gid);
        a.home = std::move(f[3]);
        a.dash = std::move(f[4]);
        a.ext = std::string(v);
        if (flagwild) a.ext += local.substr(i - 1);
        return std::optional<Assignment>(std::move(a));
      }
    }
    --i;
    flagwild = true;
  } while (i);
  return std::optional<Assignment>();
}

}  // namespace qng

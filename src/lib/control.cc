// control.cc: qmail's control files (control.c): first lines, lists, numbers.
#include "control.h"

#include <cerrno>

#include "atomic.h"
#include "fd.h"
#include "size.h"

namespace qng {
namespace {

// No control file is legitimately this large; a bigger one is an error.
constexpr size_t kMaxControl = 1 << 20;

// The first line of `data`, without its LF and trailing white space.
std::string first_line(const std::string& data) {
  return strip_trailing_space(data.substr(0, data.find('\n')));
}

}  // namespace

std::string strip_trailing_space(std::string s) {
  while (!s.empty()) {
    char c = s.back();
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
    s.pop_back();
  }
  return s;
}

Result<std::optional<std::string>> Control::contents(const std::string& name,
                                                     size_t max_bytes) const {
  auto data = read_file(path(name), max_bytes);
  if (!data) {
    if (data.error().code() == ENOENT) return std::optional<std::string>();
    return data.error();
  }
  return std::optional<std::string>(std::move(*data));
}

Result<std::optional<std::string>> Control::line(const std::string& name) const {
  auto data = contents(name, kMaxControl);
  if (!data) return data.error();
  if (!*data) return std::optional<std::string>();
  return std::optional<std::string>(first_line(**data));
}

Result<std::string> Control::line_or(const std::string& name, bool use_me,
                                     const std::string& fallback) const {
  auto got = line(name);
  if (!got) return got.error();
  if (*got) return std::move(**got);
  if (use_me) {
    auto me = line("me");
    if (!me) return me.error();
    if (*me) return std::move(**me);
  }
  return fallback;
}

Result<std::vector<std::string>> Control::lines(const std::string& name) const {
  auto data = contents(name, kMaxControl);
  if (!data) return data.error();
  std::vector<std::string> out;
  if (!*data) return out;
  const std::string& text = **data;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string l = strip_trailing_space(text.substr(pos, end - pos));
    if (!l.empty() && l[0] != '#') out.push_back(std::move(l));
    pos = end + 1;
  }
  return out;
}

Result<bool> Control::exists(const std::string& name) const {
  auto fd = open_read(path(name));
  if (fd) return true;
  if (fd.error().code() == ENOENT) return false;
  return fd.error();
}

Result<uint64_t> Control::number(const std::string& name, uint64_t fallback) const {
  auto got = line(name);
  if (!got) return got.error();
  if (!*got) return fallback;
  // qmail's scan_ulong: the leading digits count, the rest is ignored;
  // no digit at all (or a value that does not fit) keeps the default.
  const std::string& s = **got;
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  auto v = parse_decimal(std::string_view(s).substr(0, digits));
  if (!v) return fallback;
  return *v;
}

}  // namespace qng

// qread.cc: qmail-qread's listing, in qmail's exact format:
//
//   3 Mar 2024 09:09:58 GMT  #1234  567  <sender@example.org> [ bouncing]
//   <TAB>local<TAB>user@example.test
//     done<TAB>remote<TAB>friend@example.org
//
// Date = mtime of info/S/N (the message's birth), size = size of mess/S/N,
// `bouncing` when bounce/N exists. The stats line ends "> " (a space), as
// qmail's does. Bytes outside 32..126 in sender, recipients and stats
// become '_'. Trouble with one message is a "warning: trouble with #N: ..."
// line, and the listing goes on.
#include "qread.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "date.h"
#include "fd.h"
#include "queue.h"
#include "size.h"

namespace qng {
namespace {

constexpr size_t kRecordMax = 4096;  // an address is at most 1002 bytes

// qmail-qread's out(): printable ASCII passes, anything else shows as '_'.
void put_safe(Writer& out, std::string_view s) {
  for (char c : s) out.put(c >= 32 && c <= 126 ? c : '_');
}

void warn(Writer& out, const char* what, const std::string& arg, int err) {
  out.put(what);
  out.put(arg);
  out.put(": ");
  out.put(std::strerror(err));
  out.put("\n");
}

// The message numbers in one info/S directory, in numeric order; names
// that are not numbers are skipped, as readsubdir does.
Result<std::vector<unsigned long long>> ids_in(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return Error::last(dir);
  std::vector<unsigned long long> ids;
  while (const dirent* e = ::readdir(d)) {
    if (auto id = parse_decimal(e->d_name)) ids.push_back(*id);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Reads NUL-terminated records; a last record without its NUL is ignored,
// as qmail's getln without a match.
Result<std::vector<std::string>> read_records(int fd) {
  Reader in(fd);
  std::vector<std::string> records;
  std::string rec;
  for (;;) {
    auto got = in.read_line(rec, kRecordMax, '\0');
    if (!got) return got.error();
    if (!*got || rec.back() != '\0') return records;
    rec.pop_back();
    records.push_back(rec);
  }
}

// Prints one message; false (after a warning) when it cannot be read.
bool list_message(Writer& out, unsigned long long id) {
  const std::string num = std::to_string(id);
  struct stat st;
  if (::stat(mess_path(id).c_str(), &st) == -1) {
    warn(out, "warning: trouble with #", num, errno);
    return false;
  }
  const unsigned long long size = static_cast<unsigned long long>(st.st_size);
  const bool bouncing = ::stat(bounce_path(id).c_str(), &st) == 0;

  auto info = open_read(info_path(id));
  if (!info) {
    warn(out, "warning: trouble with #", num, info.error().code());
    return false;
  }
  auto records = read_records(info->get());
  if (!records) {
    warn(out, "warning: trouble with #", num, records.error().code());
    return false;
  }
  if (::fstat(info->get(), &st) == -1) {
    warn(out, "warning: trouble with #", num, errno);
    return false;
  }
  std::string sender = records->empty() || (*records)[0].empty() ? "" : (*records)[0].substr(1);

  std::string date = date822(st.st_mtime);  // "3 Mar 2024 09:09:58 -0000"
  if (date.size() > 6 && date.compare(date.size() - 6, 6, " -0000") == 0) date.resize(date.size() - 6);
  std::string stats = date + " GMT  #" + num + "  " + std::to_string(size) + "  <" + sender + "> ";
  if (bouncing) stats += " bouncing";
  put_safe(out, stats);
  out.put("\n");

  for (int channel = 0; channel < 2; ++channel) {
    auto fd = open_read(channel ? remote_path(id) : local_path(id));
    if (!fd) {
      if (fd.error().code() != ENOENT) warn(out, "warning: trouble with #", num, fd.error().code());
      continue;
    }
    auto recips = read_records(fd->get());
    if (!recips) {
      warn(out, "warning: trouble with #", num, recips.error().code());
      continue;
    }
    for (const std::string& r : *recips) {
      if (r.empty() || (r[0] != 'D' && r[0] != 'T')) continue;
      if (r[0] == 'D') out.put("  done");
      out.put(channel ? "\tremote\t" : "\tlocal\t");
      put_safe(out, std::string_view(r).substr(1));
      out.put("\n");
    }
  }
  return true;
}

}  // namespace

int list_queue(Writer& out) {
  for (unsigned long s = 0; s < kQueueSplit; ++s) {
    std::string dir = "info/" + std::to_string(s);
    auto ids = ids_in(dir);
    if (!ids) {
      warn(out, "fatal: unable to opendir ", dir, ids.error().code());
      return 111;
    }
    for (unsigned long long id : *ids) list_message(out, id);
  }
  return 0;
}

}  // namespace qng

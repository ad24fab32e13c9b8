// tcpto.cc: the timeout tables (tcpto.h).
#include "tcpto.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "fd.h"
#include "lock.h"

namespace qng {

namespace {

// One table layout.
struct Layout {
  size_t record;     // bytes per record
  size_t addr;       // address bytes at offset 0
  size_t count;      // offset of the count byte
  size_t when;       // offset of the time
  size_t when_size;  // bytes of the time, little-endian
};

constexpr Layout kLayout4{16, 4, 4, 8, 4};
constexpr Layout kLayout6{32, 16, 16, 24, 8};

const Layout& layout(int family) { return family == AF_INET6 ? kLayout6 : kLayout4; }

// Seconds to keep skipping a dead host (qmail: (60 + (pid & 31)) << 6).
constexpr uint64_t kDeadSeconds = 60;
constexpr uint64_t kRecentSeconds = 120;
constexpr unsigned kMaxCount = 10;
constexpr unsigned kLockWait = 10;

uint64_t get_when(const Layout& l, const unsigned char* rec) {
  uint64_t v = 0;
  for (size_t i = l.when_size; i > 0; --i) v = (v << 8) | rec[l.when + i - 1];
  return v;
}

void put_when(const Layout& l, unsigned char* rec, uint64_t when) {
  for (size_t i = 0; i < l.when_size; ++i) {
    rec[l.when + i] = static_cast<unsigned char>(when & 0xff);
    when >>= 8;
  }
}

size_t record_count(const Layout& l, std::string_view table) { return table.size() / l.record; }

const unsigned char* rec_at(const Layout& l, std::string_view table, size_t i) {
  return reinterpret_cast<const unsigned char*>(table.data()) + i * l.record;
}

uint64_t now_seconds() {
  time_t t = ::time(nullptr);
  return t < 0 ? 0 : static_cast<uint64_t>(t);
}

// Opens and locks the table read-write; nullopt when there is none.
std::optional<Fd> open_locked(int family) {
  auto fd = open_flags(tcpto_path(family), O_RDWR | O_NOFOLLOW | O_NOCTTY);
  if (!fd && fd.error().code() == ENOENT && family == AF_INET6) {
    // tcpto6 is ours: an instance made before it existed gets it on first
    // use when the directory lets us create it.
    fd = open_flags(tcpto_path(family), O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY, 0644);
    if (fd) {
      std::string zeros(kTcpto6Bytes, '\0');
      if (!lock_exclusive(fd->get(), true, kLockWait)) return std::nullopt;
      struct stat st;
      if (::fstat(fd->get(), &st) == 0 && st.st_size == 0)
        (void)write_all(fd->get(), zeros);
      return std::move(*fd);
    }
  }
  if (!fd) return std::nullopt;
  if (!lock_exclusive(fd->get(), true, kLockWait)) return std::nullopt;
  return std::move(*fd);
}

std::optional<std::string> read_table(int fd, size_t max) {
  std::string buf(max, '\0');
  size_t got = 0;
  while (got < max) {
    ssize_t r = ::pread(fd, buf.data() + got, max - got, static_cast<off_t>(got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  buf.resize(got);
  return buf;
}

}  // namespace

const char* tcpto_path(int family) { return family == AF_INET6 ? kTcpto6Path : kTcptoPath; }
size_t tcpto_bytes(int family) { return family == AF_INET6 ? kTcpto6Bytes : kTcptoBytes; }

std::vector<TcptoRecord> tcpto_records(std::string_view table, int family) {
  const Layout& l = layout(family);
  std::vector<TcptoRecord> out;
  size_t n = record_count(l, table);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char* rec = rec_at(l, table, i);
    if (rec[l.count] == 0) continue;
    TcptoRecord r;
    r.ip.family = family;
    std::memcpy(r.ip.bytes.data(), rec, l.addr);
    r.count = rec[l.count];
    r.when = get_when(l, rec);
    out.push_back(r);
  }
  return out;
}

TcptoState tcpto_state(std::string_view table, const IpAddress& ip, uint64_t now, unsigned pid) {
  const Layout& l = layout(ip.family);
  size_t n = record_count(l, table);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char* rec = rec_at(l, table, i);
    if (std::memcmp(rec, ip.bytes.data(), l.addr) != 0) continue;
    TcptoState s;
    s.listed = true;
    if (rec[l.count] >= 2) {
      uint64_t when = get_when(l, rec);
      uint64_t hold = (kDeadSeconds + (pid & 31)) << 6;
      // A time in the future (clock set back) counts as recent.
      if (now < when || now - when < hold) s.dead = true;
    }
    return s;
  }
  return {};
}

std::optional<TcptoWrite> tcpto_update(std::string_view table, const IpAddress& ip,
                                       bool timeout, uint64_t now) {
  const Layout& l = layout(ip.family);
  size_t n = record_count(l, table);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char* rec = rec_at(l, table, i);
    if (std::memcmp(rec, ip.bytes.data(), l.addr) != 0) continue;
    std::string r(reinterpret_cast<const char*>(rec), l.record);
    auto* w = reinterpret_cast<unsigned char*>(r.data());
    if (!timeout) {
      w[l.count] = 0;
    } else {
      uint64_t last = get_when(l, rec);
      if (w[l.count] && (now < last || now - last < kRecentSeconds)) return std::nullopt;
      if (w[l.count] < kMaxCount) ++w[l.count];
      put_when(l, w, now);
    }
    return TcptoWrite{i, std::move(r)};
  }
  if (!timeout || n == 0) return std::nullopt;

  // A free record, else the one least worth keeping.
  size_t pick = n;
  for (size_t i = 0; i < n; ++i)
    if (rec_at(l, table, i)[l.count] == 0) {
      pick = i;
      break;
    }
  if (pick == n) {
    uint64_t best = 0;
    for (size_t i = 0; i < n; ++i) {
      const unsigned char* rec = rec_at(l, table, i);
      uint64_t when = get_when(l, rec) + (static_cast<uint64_t>(rec[l.count]) << 10);
      if (pick == n || when < best) {
        pick = i;
        best = when;
      }
    }
  }
  std::string r(l.record, '\0');
  auto* w = reinterpret_cast<unsigned char*>(r.data());
  std::memcpy(w, ip.bytes.data(), l.addr);
  w[l.count] = 1;
  put_when(l, w, now);
  return TcptoWrite{pick, std::move(r)};
}

bool Tcpto::dead(const IpAddress& ip) {
  listed_ = false;
  auto fd = open_locked(ip.family);
  if (!fd) return false;
  auto table = read_table(fd->get(), tcpto_bytes(ip.family));
  if (!table) return false;
  TcptoState s = tcpto_state(*table, ip, now_seconds(), static_cast<unsigned>(::getpid()));
  listed_ = s.listed;
  return s.dead;
}

void Tcpto::record(const IpAddress& ip, bool timeout) {
  if (!timeout && !listed_) return;  // as qmail: not worth a look
  auto fd = open_locked(ip.family);
  if (!fd) return;
  auto table = read_table(fd->get(), tcpto_bytes(ip.family));
  if (!table) return;
  auto change = tcpto_update(*table, ip, timeout, now_seconds());
  if (!change) return;
  off_t pos = static_cast<off_t>(change->index * layout(ip.family).record);
  // A short write leaves one record garbled at worst; as qmail, ignore it.
  if (::pwrite(fd->get(), change->record.data(), change->record.size(), pos) < 0) {}
}

Result<std::string> tcpto_read(int family) {
  auto fd = open_flags(tcpto_path(family), O_RDONLY | O_NOFOLLOW | O_NOCTTY);
  if (!fd) return fd.error();
  if (auto s = lock_shared(fd->get(), true); !s) return s.error();
  auto table = read_table(fd->get(), tcpto_bytes(family));
  if (!table) return Error::last(std::string("unable to read ") + tcpto_path(family));
  return std::move(*table);
}

Status tcpto_clear(int family) {
  auto fd = open_flags(tcpto_path(family), O_WRONLY | O_NOFOLLOW | O_NOCTTY);
  if (!fd) return fd.error();
  if (auto s = lock_exclusive(fd->get(), true, kLockWait); !s) return s.error();
  std::string zeros(tcpto_bytes(family), '\0');
  size_t done = 0;
  while (done < zeros.size()) {
    ssize_t w = ::pwrite(fd->get(), zeros.data() + done, zeros.size() - done,
                         static_cast<off_t>(done));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Error::last(std::string("unable to clear ") + tcpto_path(family));
    }
    done += static_cast<size_t>(w);
  }
  return fd->close();
}

}  // namespace qng

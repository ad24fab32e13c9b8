// cdb.cc: constant databases, byte-compatible with D. J. Bernstein's cdb.
//
// The reader maps the file and checks every position it reads against the
// file size before touching it, so a corrupt or truncated database is an
// EPROTO error, never a read out of bounds. The writer lays out records and
// tables as cdbmake does (same order of slots), so the same input gives the
// same bytes.
#include "cdb.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "io.h"
#include "size.h"

namespace qng {

namespace {

constexpr size_t kHeaderSize = 2048;
constexpr uint64_t kMaxPos = 0xffffffffu;  // every offset must fit 32 bits

uint32_t get_u32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

void put_u32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v & 0xff);
  p[1] = static_cast<char>((v >> 8) & 0xff);
  p[2] = static_cast<char>((v >> 16) & 0xff);
  p[3] = static_cast<char>((v >> 24) & 0xff);
}

Error corrupt(const char* what) {
  return Error::temp(std::string("corrupt cdb: ") + what, EPROTO);
}

}  // namespace

uint32_t cdb_hash(std::string_view key) {
  uint32_t h = 5381;
  for (unsigned char c : key) h = ((h << 5) + h) ^ c;
  return h;
}

// ---- reader ----

Result<CdbReader> CdbReader::open(const std::string& path) {
  auto fd = open_read(path);
  if (!fd) return fd.error();
  auto r = from_fd(std::move(*fd));
  if (!r) return Error::sys(r.error().code(), path + ": " + r.error().context());
  return r;
}

Result<CdbReader> CdbReader::from_fd(Fd fd) {
  struct stat st;
  if (::fstat(fd.get(), &st) == -1) return Error::last("unable to stat cdb");
  if (!S_ISREG(st.st_mode)) return corrupt("not a regular file");
  if (st.st_size < static_cast<off_t>(kHeaderSize)) return corrupt("shorter than its header");
  auto size = static_cast<size_t>(st.st_size);
  void* m = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
  if (m == MAP_FAILED) return Error::last("unable to map cdb");
  CdbReader r;
  r.map_ = static_cast<const unsigned char*>(m);
  r.size_ = size;
  return r;  // the mapping outlives the descriptor
}

CdbReader::CdbReader(CdbReader&& o) noexcept
    : map_(std::exchange(o.map_, nullptr)), size_(std::exchange(o.size_, 0)) {}

CdbReader& CdbReader::operator=(CdbReader&& o) noexcept {
  if (this != &o) {
    if (map_) ::munmap(const_cast<unsigned char*>(map_), size_);
    map_ = std::exchange(o.map_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

CdbReader::~CdbReader() {
  if (map_) ::munmap(const_cast<unsigned char*>(map_), size_);
}

Result<std::vector<std::string>> CdbReader::find_all(std::string_view key) const {
  std::vector<std::string> out;
  if (!map_) return corrupt("not open");
  uint32_t h = cdb_hash(key);
  const unsigned char* head = map_ + (h & 255) * 8;
  uint64_t tpos = get_u32(head);
  uint64_t nslots = get_u32(head + 4);
  if (nslots == 0) return out;
  if (tpos < kHeaderSize || tpos > size_ || nslots > (size_ - tpos) / 8)
    return corrupt("hash table out of bounds");
  uint64_t slot = (h >> 8) % nslots;
  for (uint64_t n = 0; n < nslots; ++n) {
    const unsigned char* s = map_ + tpos + slot * 8;
    uint32_t sh = get_u32(s);
    uint64_t rpos = get_u32(s + 4);
    if (rpos == 0) break;
    if (sh == h) {
      if (rpos < kHeaderSize || rpos > size_ || size_ - rpos < 8)
        return corrupt("record out of bounds");
      uint64_t klen = get_u32(map_ + rpos);
      uint64_t dlen = get_u32(map_ + rpos + 4);
      uint64_t left = size_ - rpos - 8;
      if (klen > left || dlen > left - klen) return corrupt("record out of bounds");
      const char* k = reinterpret_cast<const char*>(map_ + rpos + 8);
      if (klen == key.size() && std::memcmp(k, key.data(), key.size()) == 0)
        out.emplace_back(k + klen, dlen);
    }
    if (++slot == nslots) slot = 0;
  }
  return out;
}

Result<std::optional<std::string>> CdbReader::find(std::string_view key) const {
  auto all = find_all(key);
  if (!all) return all.error();
  if (all->empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(all->front()));
}

Result<std::vector<std::pair<std::string, std::string>>> CdbReader::dump() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (!map_) return corrupt("not open");
  // Records end where the first hash table begins, as in cdbdump.
  uint64_t eod = get_u32(map_);
  if (eod < kHeaderSize || eod > size_) return corrupt("end of data out of bounds");
  uint64_t pos = kHeaderSize;
  while (pos < eod) {
    if (eod - pos < 8) return corrupt("record out of bounds");
    uint64_t klen = get_u32(map_ + pos);
    uint64_t dlen = get_u32(map_ + pos + 4);
    uint64_t left = eod - pos - 8;
    if (klen > left || dlen > left - klen) return corrupt("record out of bounds");
    const char* k = reinterpret_cast<const char*>(map_ + pos + 8);
    out.emplace_back(std::string(k, klen), std::string(k + klen, dlen));
    pos += 8 + klen + dlen;
  }
  return out;
}

// ---- writer ----

struct CdbWriter::Impl {
  struct Slot {
    uint32_t hash;
    uint32_t pos;
  };
  std::string path;
  std::string tmp;
  Fd fd;
  Writer out;
  uint64_t pos = kHeaderSize;
  uint64_t records = 0;
  std::array<std::vector<Slot>, 256> tables;
  bool done = false;

  Impl(std::string p, Fd f)
      : path(std::move(p)), tmp(path + ".tmp"), fd(std::move(f)), out(fd.get(), 0, 65536) {}
  ~Impl() {
    if (!done) ::unlink(tmp.c_str());
  }
};

Result<CdbWriter> CdbWriter::create(const std::string& path, mode_t mode) {
  std::string tmp = path + ".tmp";
  auto fd = open_flags(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NOCTTY, mode);
  if (!fd) return fd.error();
  CdbWriter w;
  w.impl_ = new Impl(path, std::move(*fd));
  if (::fchmod(w.impl_->fd.get(), mode) == -1) return Error::last("unable to chmod " + tmp);
  // The header is written last; reserve its room now.
  std::string zeros(kHeaderSize, '\0');
  w.impl_->out.put(zeros);
  return w;
}

CdbWriter::CdbWriter(CdbWriter&& o) noexcept : impl_(std::exchange(o.impl_, nullptr)) {}

CdbWriter& CdbWriter::operator=(CdbWriter&& o) noexcept {
  if (this != &o) {
    delete impl_;
    impl_ = std::exchange(o.impl_, nullptr);
  }
  return *this;
}

CdbWriter::~CdbWriter() { delete impl_; }

Status CdbWriter::add(std::string_view key, std::string_view data) {
  if (!impl_ || impl_->done) return Error::perm("cdb writer is not open", EBADF);
  Impl& w = *impl_;
  if (key.size() > kMaxPos || data.size() > kMaxPos) return Error::perm("cdb record too big", EFBIG);
  uint64_t need = 8 + static_cast<uint64_t>(key.size()) + data.size();
  if (w.pos > kMaxPos || need > kMaxPos - w.pos) return Error::perm("cdb too big", EFBIG);
  // Each record also costs two 8-byte slots at the end: keep room for them.
  if ((w.records + 1) * 16 > kMaxPos - w.pos - need) return Error::perm("cdb too big", EFBIG);
  uint32_t h = cdb_hash(key);
  w.tables[h & 255].push_back({h, static_cast<uint32_t>(w.pos)});
  char lens[8];
  put_u32(lens, static_cast<uint32_t>(key.size()));
  put_u32(lens + 4, static_cast<uint32_t>(data.size()));
  w.out.put(std::string_view(lens, 8));
  w.out.put(key);
  w.out.put(data);
  w.pos += need;
  ++w.records;
  if (w.out.failed()) return Error::sys(w.out.error().code(), "unable to write " + w.tmp);
  return {};
}

Status CdbWriter::finish() {
  if (!impl_ || impl_->done) return Error::perm("cdb writer is not open", EBADF);
  Impl& w = *impl_;
  char header[kHeaderSize];
  std::vector<Impl::Slot> slots;
  for (size_t t = 0; t < 256; ++t) {
    const auto& list = w.tables[t];
    uint64_t len = static_cast<uint64_t>(list.size()) * 2;
    if (w.pos > kMaxPos || len * 8 > kMaxPos - w.pos) return Error::perm("cdb too big", EFBIG);
    put_u32(header + t * 8, static_cast<uint32_t>(w.pos));
    put_u32(header + t * 8 + 4, static_cast<uint32_t>(len));
    slots.assign(len, Impl::Slot{0, 0});
    for (const auto& e : list) {
      uint64_t where = (e.hash >> 8) % len;
      while (slots[where].pos != 0)
        if (++where == len) where = 0;
      slots[where] = e;
    }
    for (const auto& s : slots) {
      char b[8];
      put_u32(b, s.hash);
      put_u32(b + 4, s.pos);
      w.out.put(std::string_view(b, 8));
    }
    w.pos += len * 8;
  }
  if (auto f = w.out.flush(); !f) return Error::sys(f.error().code(), "unable to write " + w.tmp);
  std::string_view hv(header, kHeaderSize);
  size_t off = 0;
  while (off < hv.size()) {
    ssize_t n = ::pwrite(w.fd.get(), hv.data() + off, hv.size() - off, static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::last("unable to write " + w.tmp);
    }
    off += static_cast<size_t>(n);
  }
  if (auto s = fsync_fd(w.fd.get(), w.tmp); !s) return s;
  if (auto s = w.fd.close(); !s) return Error::sys(s.error().code(), "unable to write " + w.tmp);
  if (::rename(w.tmp.c_str(), w.path.c_str()) == -1)
    return Error::last("unable to move " + w.tmp + " to " + w.path);
  w.done = true;
  return fsync_dir(dir_of(w.path));
}

}  // namespace qng

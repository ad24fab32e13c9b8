// cdb_test.cc: CdbReader/CdbWriter round trips, exact bytes, corrupt files,
// and interoperation with tinycdb's `cdb` tool (/usr/bin/cdb, installed by
// `make deps`; its absence is a failure, not a skip).
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cdb.h"
#include "fd.h"

namespace qng {
namespace {

using Records = std::vector<std::pair<std::string, std::string>>;

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/cdbtest.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) std::abort();
    path_ = buf.data();
  }
  ~TempDir() {
    // Remove what the tests made (a flat directory).
    const std::string& cmd_dir = path_;
    if (DIR* d = ::opendir(cmd_dir.c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") ::unlink((cmd_dir + "/" + n).c_str());
      }
      ::closedir(d);
    }
    ::rmdir(cmd_dir.c_str());
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

void spew(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fd);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void build(const std::string& path, const Records& recs) {
  auto w = CdbWriter::create(path);
  ASSERT_TRUE(w) << w.error().message();
  for (const auto& [k, d] : recs) ASSERT_TRUE(w->add(k, d));
  auto f = w->finish();
  ASSERT_TRUE(f) << f.error().message();
}

// The records grouped by key, values in insertion order.
std::map<std::string, std::vector<std::string>> by_key(const Records& recs) {
  std::map<std::string, std::vector<std::string>> m;
  for (const auto& [k, d] : recs) m[k].push_back(d);
  return m;
}

// tinycdb's native format: "+klen,dlen:key->data\n" ..., then "\n".
std::string native(const Records& recs) {
  std::string s;
  for (const auto& [k, d] : recs)
    s += "+" + std::to_string(k.size()) + "," + std::to_string(d.size()) + ":" + k + "->" + d + "\n";
  s += "\n";
  return s;
}

Records many_records() {
  Records r;
  r.emplace_back("", "the empty key");
  r.emplace_back(std::string("bin\0key\xff\x01", 9), std::string("v\0\n\r\xfe", 5));
  r.emplace_back("dup", "first");
  for (int i = 0; i < 3000; ++i)
    r.emplace_back("key" + std::to_string(i), std::string(static_cast<size_t>(i % 37), 'a' + i % 26));
  r.emplace_back("dup", "second");
  r.emplace_back("", "");
  std::string all;
  for (int c = 1; c < 256; ++c) all += static_cast<char>(c);
  r.emplace_back(all, all);
  r.emplace_back("dup", "third");
  r.emplace_back("empty-data", "");
  return r;
}

struct ToolRun {
  int status = -1;
  std::string out;
};

// Runs argv (no shell) with stdin from `in_path` (or /dev/null), returning the
// exit status and standard output.
ToolRun run(const std::vector<std::string>& argv, const TempDir& dir, const std::string& in_path = "") {
  ToolRun r;
  std::string out_path = dir.file("stdout");
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open(in_path.empty() ? "/dev/null" : in_path.c_str(), O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (pid < 0) return r;
  int st = 0;
  while (::waitpid(pid, &st, 0) == -1 && errno == EINTR) {
  }
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.out = slurp(out_path);
  return r;
}

constexpr const char* kTinyCdb = "/usr/bin/cdb";

TEST(Cdb, Hash) {
  EXPECT_EQ(cdb_hash(""), 5381u);
  EXPECT_EQ(cdb_hash("a"), ((5381u << 5) + 5381u) ^ 'a');
  // Bytes are unsigned: 0xff must not be sign-extended.
  EXPECT_EQ(cdb_hash("\xff"), ((5381u << 5) + 5381u) ^ 0xffu);
}

TEST(Cdb, ExactBytesOfOneRecord) {
  TempDir dir;
  std::string path = dir.file("one.cdb");
  build(path, {{"a", "b"}});
  std::string got = slurp(path);
  // header, one record (8 + 1 + 1), then 256 tables; only table h&255 has
  // two slots, the rest are empty and point at the end of the records.
  uint32_t h = cdb_hash("a");
  ASSERT_EQ(got.size(), 2048u + 10 + 16);
  auto u32 = [&](size_t off) {
    return static_cast<uint32_t>(static_cast<unsigned char>(got[off])) |
           static_cast<uint32_t>(static_cast<unsigned char>(got[off + 1])) << 8 |
           static_cast<uint32_t>(static_cast<unsigned char>(got[off + 2])) << 16 |
           static_cast<uint32_t>(static_cast<unsigned char>(got[off + 3])) << 24;
  };
  for (uint32_t t = 0; t < 256; ++t) {
    uint32_t want_pos = 2058 + (t > (h & 255) ? 16 : 0);
    EXPECT_EQ(u32(t * 8), want_pos) << t;
    EXPECT_EQ(u32(t * 8 + 4), t == (h & 255) ? 2u : 0u) << t;
  }
  EXPECT_EQ(u32(2048), 1u);
  EXPECT_EQ(u32(2052), 1u);
  EXPECT_EQ(got.substr(2056, 2), "ab");
  size_t slot = (h >> 8) % 2;
  EXPECT_EQ(u32(2058 + slot * 8), h);
  EXPECT_EQ(u32(2058 + slot * 8 + 4), 2048u);
  EXPECT_EQ(u32(2058 + (1 - slot) * 8 + 4), 0u);
}

TEST(Cdb, RoundTrip) {
  TempDir dir;
  std::string path = dir.file("rt.cdb");
  Records recs = many_records();
  build(path, recs);
  auto r = CdbReader::open(path);
  ASSERT_TRUE(r) << r.error().message();
  for (const auto& [k, vals] : by_key(recs)) {
    auto all = r->find_all(k);
    ASSERT_TRUE(all);
    EXPECT_EQ(*all, vals) << k;
    auto one = r->find(k);
    ASSERT_TRUE(one);
    ASSERT_TRUE(one->has_value());
    EXPECT_EQ(**one, vals.front());
  }
  struct Miss { std::string key; };
  const Miss misses[] = {{"key3000"}, {"ke"}, {std::string("bin\0key", 7)}, {"DUP"}, {"\xff"}};
  for (const auto& m : misses) {
    auto one = r->find(m.key);
    ASSERT_TRUE(one);
    EXPECT_FALSE(one->has_value()) << m.key;
    auto all = r->find_all(m.key);
    ASSERT_TRUE(all);
    EXPECT_TRUE(all->empty());
  }
  auto d = r->dump();
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, recs);
}

TEST(Cdb, EmptyDatabase) {
  TempDir dir;
  std::string path = dir.file("empty.cdb");
  build(path, {});
  EXPECT_EQ(slurp(path).size(), 2048u);
  auto r = CdbReader::open(path);
  ASSERT_TRUE(r);
  auto one = r->find("");
  ASSERT_TRUE(one);
  EXPECT_FALSE(one->has_value());
  auto d = r->dump();
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->empty());
}

TEST(Cdb, MissingFileIsEnoent) {
  TempDir dir;
  auto r = CdbReader::open(dir.file("nope.cdb"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOENT);
}

TEST(Cdb, WriterUsesTmpAndRename) {
  TempDir dir;
  std::string path = dir.file("w.cdb");
  spew(path, "old");
  {
    auto w = CdbWriter::create(path, 0640);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->add("k", "v"));
    EXPECT_TRUE(exists(path + ".tmp"));
    EXPECT_EQ(slurp(path), "old");
    ASSERT_TRUE(w->finish());
    EXPECT_FALSE(exists(path + ".tmp"));
    EXPECT_FALSE(w->add("k2", "v2"));  // finished writers take nothing
  }
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  auto r = CdbReader::open(path);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->find("k")->value(), "v");
  // An abandoned writer removes its tmp and leaves the database alone.
  {
    auto w = CdbWriter::create(path);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->add("other", "x"));
  }
  EXPECT_FALSE(exists(path + ".tmp"));
  auto r2 = CdbReader::open(path);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->find("k")->value(), "v");
}

TEST(Cdb, TooBigIsEfbig) {
  TempDir dir;
  auto w = CdbWriter::create(dir.file("big.cdb"));
  ASSERT_TRUE(w);
  static const char small[1] = {0};
  // The sizes are checked before a byte is read, so these views are never read.
  const size_t sizes[] = {size_t{1} << 32, 0xfffffff0u, 0xffffffffu - 2048 - 8 - 1 - 15};
  for (size_t n : sizes) {
    auto s = w->add("k", std::string_view(small, n));
    ASSERT_FALSE(s) << n;
    EXPECT_EQ(s.error().code(), EFBIG);
    EXPECT_TRUE(s.error().permanent());
  }
  ASSERT_TRUE(w->add("k", "v"));
  ASSERT_TRUE(w->finish());
}

// Handcrafted damage: every one must be an EPROTO error.
TEST(Cdb, CorruptFilesAreErrors) {
  TempDir dir;
  std::string good_path = dir.file("good.cdb");
  build(good_path, {{"a", "b"}, {"key", "value"}});
  const std::string good = slurp(good_path);
  auto set_u32 = [](std::string& s, size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i) s[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  uint32_t ha = cdb_hash("a");
  size_t ta = (ha & 255) * 8;
  struct Case {
    const char* name;
    std::function<void(std::string&)> damage;
    bool find_fails;
    bool dump_fails;
  };
  const Case cases[] = {
      {"table past end", [&](std::string& s) { set_u32(s, ta, 0xfffffff0u); }, true, false},
      {"too many slots", [&](std::string& s) { set_u32(s, ta + 4, 0x7fffffffu); }, true, false},
      {"table in header", [&](std::string& s) { set_u32(s, ta, 8); }, true, false},
      {"klen huge",
       [&](std::string& s) { set_u32(s, 2048, 0xffffffffu); }, true, true},
      {"dlen huge",
       [&](std::string& s) { set_u32(s, 2052, 0xfffffff0u); }, true, true},
      {"eod past end", [&](std::string& s) { set_u32(s, 0, 0xffffff00u); }, false, true},
      {"eod in header", [&](std::string& s) { set_u32(s, 0, 100); }, false, true},
  };
  for (const auto& c : cases) {
    std::string bad = good;
    c.damage(bad);
    std::string p = dir.file("bad.cdb");
    spew(p, bad);
    auto r = CdbReader::open(p);
    ASSERT_TRUE(r) << c.name;
    auto f = r->find("a");
    EXPECT_EQ(!f, c.find_fails) << c.name;
    if (!f) {
      EXPECT_EQ(f.error().code(), EPROTO) << c.name;
      EXPECT_TRUE(f.error().temporary()) << c.name;
    }
    auto d = r->dump();
    EXPECT_EQ(!d, c.dump_fails) << c.name;
    if (!d) {
      EXPECT_EQ(d.error().code(), EPROTO) << c.name;
    }
  }
  // Record positions that point past the end.
  std::string bad = good;
  auto get_u32 = [](const std::string& s, size_t off) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(s[off + i]);
    return v;
  };
  uint32_t tpos = get_u32(good, ta);
  ASSERT_EQ(get_u32(good, ta + 4), 2u);
  for (size_t slot = 0; slot < 2; ++slot)
    if (get_u32(good, tpos + slot * 8 + 4) != 0)
      set_u32(bad, tpos + slot * 8 + 4, static_cast<uint32_t>(good.size() - 4));
  std::string p = dir.file("bad2.cdb");
  spew(p, bad);
  auto r = CdbReader::open(p);
  ASSERT_TRUE(r);
  auto f = r->find("a");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), EPROTO);
}

// Every truncation and many random corruptions of a real database: errors or
// answers, never a crash or an out-of-bounds read (ASan checks the latter).
TEST(Cdb, TruncatedAndFuzzedNeverCrash) {
  TempDir dir;
  std::string good_path = dir.file("good.cdb");
  Records recs;
  for (int i = 0; i < 40; ++i) recs.emplace_back("k" + std::to_string(i), "data" + std::to_string(i));
  build(good_path, recs);
  const std::string good = slurp(good_path);
  // From memory files: the reader takes any descriptor of a regular file.
  auto open_bytes = [](const std::string& bytes) {
    Fd fd(::memfd_create("cdbtest", MFD_CLOEXEC));
    EXPECT_TRUE(fd.valid());
    EXPECT_TRUE(write_all(fd.get(), bytes));
    return CdbReader::from_fd(std::move(fd));
  };
  auto probe = [&](const std::string& bytes) {
    auto r = open_bytes(bytes);
    if (!r) {
      EXPECT_EQ(r.error().code(), EPROTO);
      return;
    }
    for (int i = 0; i < 42; ++i) (void)r->find_all("k" + std::to_string(i));
    (void)r->dump();
  };
  for (size_t len : {size_t{0}, size_t{1}, size_t{8}, size_t{1000}, size_t{2047}}) {
    auto r = open_bytes(good.substr(0, len));
    ASSERT_FALSE(r) << len;
    EXPECT_EQ(r.error().code(), EPROTO);
  }
  for (size_t len = 2048; len < good.size(); ++len) probe(good.substr(0, len));
  std::mt19937 rng(12345);
  for (int round = 0; round < 2000; ++round) {
    std::string bad = good;
    int flips = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < flips; ++i) bad[rng() % bad.size()] = static_cast<char>(rng());
    probe(bad);
  }
}

// ---- interoperation with tinycdb ----

TEST(CdbInterop, TinyCdbIsInstalled) {
  struct stat st;
  ASSERT_EQ(::stat(kTinyCdb, &st), 0) << kTinyCdb << " is missing: run make deps (tinycdb)";
}

TEST(CdbInterop, TinyCdbReadsOurs) {
  ASSERT_EQ(::access(kTinyCdb, X_OK), 0) << kTinyCdb << " is missing";
  TempDir dir;
  std::string path = dir.file("ours.cdb");
  Records recs = many_records();
  build(path, recs);

  ToolRun dump = run({kTinyCdb, "-d", path}, dir);
  ASSERT_EQ(dump.status, 0);
  EXPECT_EQ(dump.out, native(recs));

  struct Query { std::vector<std::string> args; int status; std::string out; };
  std::string all;
  for (int c = 1; c < 256; ++c) all += static_cast<char>(c);
  const Query queries[] = {
      {{"-q", path, "key0"}, 0, ""},
      {{"-q", path, "key17"}, 0, std::string(17, 'a' + 17)},
      {{"-q", path, "key2999"}, 0, std::string(2999 % 37, 'a' + 2999 % 26)},
      {{"-q", path, "dup"}, 0, "firstsecondthird"},
      {{"-q", "-n", "2", path, "dup"}, 0, "second"},
      {{"-q", "-n", "3", path, "dup"}, 0, "third"},
      {{"-q", path, ""}, 0, "the empty key"},
      {{"-q", path, all}, 0, all},
      {{"-q", path, "empty-data"}, 0, ""},
      {{"-q", path, "key3000"}, 100, ""},
  };
  for (const auto& q : queries) {
    std::vector<std::string> argv{kTinyCdb};
    argv.insert(argv.end(), q.args.begin(), q.args.end());
    ToolRun r = run(argv, dir);
    if (q.status == 0) {
      EXPECT_EQ(r.status, 0) << q.args.back();
    } else {
      EXPECT_NE(r.status, 0) << q.args.back();
    }
    EXPECT_EQ(r.out, q.out) << q.args.back();
  }
}

TEST(CdbInterop, WeReadTinyCdbsAndBytesAreIdentical) {
  ASSERT_EQ(::access(kTinyCdb, X_OK), 0) << kTinyCdb << " is missing";
  TempDir dir;
  Records recs = many_records();
  std::string in = dir.file("in.txt");
  spew(in, native(recs));
  std::string theirs = dir.file("theirs.cdb");
  ToolRun c = run({kTinyCdb, "-c", theirs}, dir, in);
  ASSERT_EQ(c.status, 0);

  auto r = CdbReader::open(theirs);
  ASSERT_TRUE(r) << r.error().message();
  for (const auto& [k, vals] : by_key(recs)) {
    auto got = r->find_all(k);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, vals) << k;
  }
  auto d = r->dump();
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, recs);

  // Same records in the same order: cdbmake's layout, byte for byte.
  std::string ours = dir.file("ours.cdb");
  build(ours, recs);
  EXPECT_TRUE(slurp(ours) == slurp(theirs));

  // Map format too ("key value" lines).
  std::string map_in = dir.file("map.txt");
  spew(map_in, "# comment\nalpha one\nbeta two words\n\nalpha again\n");
  std::string map_db = dir.file("map.cdb");
  ToolRun m = run({kTinyCdb, "-c", "-m", map_db}, dir, map_in);
  ASSERT_EQ(m.status, 0);
  auto mr = CdbReader::open(map_db);
  ASSERT_TRUE(mr);
  EXPECT_EQ(*mr->find_all("alpha"), (std::vector<std::string>{"one", "again"}));
  EXPECT_EQ(mr->find("beta")->value(), "two words");
}

}  // namespace
}  // namespace qng

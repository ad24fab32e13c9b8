// core_test.cc: size arithmetic, Buffer caps, Error classification, Fd and io.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "buffer.h"
#include "error.h"
#include "fd.h"
#include "io.h"
#include "result.h"
#include "size.h"

namespace qng {
namespace {

TEST(Size, CheckedAddAndMul) {
  EXPECT_EQ(checked_add(1, 2), 3u);
  EXPECT_FALSE(checked_add(SIZE_MAX, 1));
  EXPECT_EQ(checked_mul(1u << 16, 1u << 16), size_t{1} << 32);
  EXPECT_FALSE(checked_mul(SIZE_MAX / 2 + 1, 2));
  EXPECT_TRUE(fits(10, 5, 15));
  EXPECT_FALSE(fits(10, 6, 15));
  EXPECT_FALSE(fits(16, 0, 15));
  EXPECT_FALSE(fits(1, SIZE_MAX, 15));  // would wrap if computed as used + n
}

TEST(Size, ParseDecimal) {
  struct Case { const char* in; std::optional<uint64_t> want; uint64_t max; };
  const Case cases[] = {
      {"0", 0, UINT64_MAX},
      {"1200", 1200, UINT64_MAX},
      {"18446744073709551615", UINT64_MAX, UINT64_MAX},
      {"18446744073709551616", std::nullopt, UINT64_MAX},
      {"99999999999999999999999", std::nullopt, UINT64_MAX},
      {"", std::nullopt, UINT64_MAX},
      {"-1", std::nullopt, UINT64_MAX},
      {" 1", std::nullopt, UINT64_MAX},
      {"12a", std::nullopt, UINT64_MAX},
      {"1001", std::nullopt, 1000},
      {"1000", 1000, 1000},
      {"5", std::nullopt, 3},  // digit above max - v must not wrap
      {"3", 3, 3},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_decimal(c.in, c.max), c.want) << c.in;
}

TEST(Buffer, CapIsAnErrorNotAWrap) {
  Buffer b(8);
  EXPECT_TRUE(b.append("12345678"));
  auto r = b.append("9");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), E2BIG);
  EXPECT_TRUE(r.error().permanent());
  EXPECT_EQ(b.view(), "12345678");
  EXPECT_FALSE(b.resize(9));
  b.clear();
  EXPECT_TRUE(b.push_back('x'));
  EXPECT_EQ(b.room(), 7u);
}

TEST(Error, TemporaryTableFollowsQmail) {
  for (int e : {EINTR, ENOMEM, EIO, ETIMEDOUT, EAGAIN, ENOSPC, EDQUOT, ECONNREFUSED, ENFILE})
    EXPECT_TRUE(is_temp(e)) << e;
  for (int e : {ENOENT, EACCES, EPERM, EISDIR, EINVAL, E2BIG, ENOTDIR})
    EXPECT_FALSE(is_temp(e)) << e;
  EXPECT_TRUE(Error::sys(ENOSPC, "write").temporary());
  EXPECT_TRUE(Error::sys(ENOENT, "open").permanent());
  EXPECT_EQ(Error::sys(ENOENT, "unable to open x").message(),
            "unable to open x: No such file or directory");
  EXPECT_EQ(Error::perm("bad syntax").message(), "bad syntax");
}

TEST(Result, ValueOrError) {
  Result<int> good = 7;
  ASSERT_TRUE(good);
  EXPECT_EQ(*good, 7);
  Result<int> bad = Error::temp("later");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().temporary());
  Status s;
  EXPECT_TRUE(s);
  Status f = Error::perm("no");
  EXPECT_FALSE(f);
}

TEST(Fd, ClosesOnScopeExitAndMoves) {
  int raw = -1;
  {
    auto f = open_read("/dev/null");
    ASSERT_TRUE(f);
    raw = f->get();
    Fd moved = std::move(*f);
    EXPECT_FALSE(f->valid());
    EXPECT_EQ(moved.get(), raw);
  }
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
  auto missing = open_read("/nonexistent/qng");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
}

TEST(Io, LinesWithCapAndEof) {
  Fd r, w;
  ASSERT_TRUE(make_pipe(r, w));
  ASSERT_TRUE(write_all(w.get(), "one\ntwo\r\nthree"));
  w.reset();
  Reader in(r.get(), 1000, 4);  // tiny buffer: lines cross refills
  std::string line;
  auto got = in.read_line(line, 100);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(line, "one\n");
  got = in.read_line(line, 100);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(line, "two\r\n");
  got = in.read_line(line, 100);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(line, "three");
  got = in.read_line(line, 100);
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
}

TEST(Io, LineOverCapFails) {
  Fd r, w;
  ASSERT_TRUE(make_pipe(r, w));
  ASSERT_TRUE(write_all(w.get(), std::string(50, 'x') + "\n"));
  Reader in(r.get(), 1000);
  std::string line;
  auto got = in.read_line(line, 10);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), E2BIG);
  EXPECT_EQ(line.size(), 10u);
}

TEST(Io, ReadTimesOut) {
  Fd r, w;
  ASSERT_TRUE(make_pipe(r, w));
  Reader in(r.get(), 50);
  char c;
  auto got = in.get(c);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ETIMEDOUT);
  EXPECT_TRUE(got.error().temporary());
}

TEST(Io, WriterIsStickyAndFlushReports) {
  Fd r, w;
  ASSERT_TRUE(make_pipe(r, w));
  {
    Writer out(w.get(), 1000, 4);
    out.put("hello ");
    out.put_number(1234567890123ULL);
    out.put('!');
    ASSERT_TRUE(out.flush());
  }
  char buf[64] = {};
  auto n = read_some(r.get(), buf, sizeof buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(buf, *n), "hello 1234567890123!");
  r.reset();  // no reader: writes now fail with EPIPE
  signal(SIGPIPE, SIG_IGN);
  Writer out(w.get(), 1000, 4);
  out.put("abcdefgh");
  EXPECT_TRUE(out.failed());
  out.put("more");  // ignored after the first error
  auto s = out.flush();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), EPIPE);
}

TEST(Io, ReadExactReportsShortInput) {
  Fd r, w;
  ASSERT_TRUE(make_pipe(r, w));
  ASSERT_TRUE(write_all(w.get(), "abc"));
  w.reset();
  Reader in(r.get());
  char buf[4];
  auto s = in.read_exact(buf, 4);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), EPIPE);
}

}  // namespace
}  // namespace qng

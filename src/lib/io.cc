// io.cc: buffered, timed Reader and Writer.
#include "io.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "fd.h"
#include "size.h"

namespace qng {

Status wait_fd(int fd, short events, int timeout_ms) {
  if (timeout_ms <= 0) return {};
  pollfd p{fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, timeout_ms);
    if (r > 0) return {};  // ready, or an error the next call reports
    if (r == 0) return Error::sys(ETIMEDOUT, "timed out");
    if (errno != EINTR) return Error::last("unable to poll");
  }
}

Reader::Reader(int fd, int timeout_ms, size_t bufsize)
    : fd_(fd), timeout_ms_(timeout_ms), buf_(bufsize ? bufsize : 1, '\0') {}

Result<size_t> Reader::fill() {
  if (auto w = wait_fd(fd_, POLLIN, timeout_ms_); !w) return w.error();
  auto r = read_some(fd_, buf_.data(), buf_.size());
  if (!r) return r.error();
  pos_ = 0;
  end_ = *r;
  return *r;
}

Result<size_t> Reader::read(char* out, size_t n) {
  if (n == 0) return size_t{0};
  if (pos_ == end_) {
    if (n >= buf_.size()) {  // large reads bypass the buffer
      if (auto w = wait_fd(fd_, POLLIN, timeout_ms_); !w) return w.error();
      return read_some(fd_, out, n);
    }
    auto f = fill();
    if (!f) return f.error();
    if (*f == 0) return size_t{0};
  }
  size_t take = std::min(n, end_ - pos_);
  std::memcpy(out, buf_.data() + pos_, take);
  pos_ += take;
  return take;
}

Result<bool> Reader::get(char& c) {
  if (pos_ == end_) {
    auto f = fill();
    if (!f) return f.error();
    if (*f == 0) return false;
  }
  c = buf_[pos_++];
  return true;
}

Result<bool> Reader::read_line(std::string& line, size_t max, char delim) {
  line.clear();
  for (;;) {
    if (pos_ == end_) {
      auto f = fill();
      if (!f) return f.error();
      if (*f == 0) return !line.empty();
    }
    const char* start = buf_.data() + pos_;
    size_t avail = end_ - pos_;
    const void* hit = std::memchr(start, delim, avail);
    size_t take = hit ? static_cast<size_t>(static_cast<const char*>(hit) - start) + 1 : avail;
    if (!fits(line.size(), take, max)) {
      size_t room = max - line.size();
      line.append(start, room);
      pos_ += room;
      return Error::perm("line too long", E2BIG);
    }
    line.append(start, take);
    pos_ += take;
    if (hit) return true;
  }
}

Status Reader::read_exact(char* out, size_t n) {
  while (n > 0) {
    auto r = read(out, n);
    if (!r) return r.error();
    if (*r == 0) return Error::sys(EPIPE, "unexpected end of input");
    out += *r;
    n -= *r;
  }
  return {};
}

Writer::Writer(int fd, int timeout_ms, size_t bufsize)
    : fd_(fd), timeout_ms_(timeout_ms), cap_(bufsize ? bufsize : 1) {
  buf_.reserve(cap_);
}

void Writer::write_out(std::string_view s) {
  while (!failed_ && !s.empty()) {
    if (auto w = wait_fd(fd_, POLLOUT, timeout_ms_); !w) {
      failed_ = true;
      error_ = w.error();
      return;
    }
    ssize_t n = ::write(fd_, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {  // non-blocking descriptor: wait for room
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, timeout_ms_ > 0 ? timeout_ms_ : -1) > 0 || errno == EINTR) continue;
        failed_ = true;
        error_ = Error::sys(ETIMEDOUT, "timed out");
        return;
      }
      failed_ = true;
      error_ = Error::last("unable to write");
      return;
    }
    s.remove_prefix(static_cast<size_t>(n));
  }
}

void Writer::put(std::string_view s) {
  if (failed_) return;
  if (s.size() > cap_ - buf_.size()) {
    write_out(buf_);
    buf_.clear();
    if (s.size() >= cap_) {
      write_out(s);
      return;
    }
  }
  buf_.append(s);
}

void Writer::put(char c) { put(std::string_view(&c, 1)); }

void Writer::put_number(unsigned long long n) {
  char tmp[24];
  size_t i = sizeof tmp;
  do {
    tmp[--i] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  put(std::string_view(tmp + i, sizeof tmp - i));
}

Status Writer::flush() {
  if (!failed_ && !buf_.empty()) write_out(buf_);
  buf_.clear();
  if (failed_) return error_;
  return {};
}

}  // namespace qng

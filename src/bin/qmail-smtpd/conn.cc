// conn.cc: the plain transport and the buffered, timed connection.
#include "conn.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "io.h"
#include "replies.h"

namespace qng::smtpd {

namespace {

constexpr size_t kInBuffer = 16384;
constexpr size_t kOutBuffer = 16384;   // queued replies written out past this
constexpr int kLastReplyMs = 5000;     // the wait for a reply before exiting

}  // namespace

long long now_ms() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

Result<size_t> FdTransport::read(char* buf, size_t n, int timeout_ms) {
  for (;;) {
    if (auto w = wait_fd(in_, POLLIN, timeout_ms); !w) return w.error();
    ssize_t r = ::read(in_, buf, n);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EINTR && errno != EAGAIN) return Error::last("unable to read");
  }
}

Status FdTransport::write(std::string_view data, int timeout_ms) {
  while (!data.empty()) {
    if (auto w = wait_fd(out_, POLLOUT, timeout_ms); !w) return w.error();
    ssize_t r = ::write(out_, data.data(), data.size());
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Error::last("unable to write");
    }
    data.remove_prefix(static_cast<size_t>(r));
  }
  return {};
}

Conn::Conn(std::unique_ptr<Transport> t, long long timeout_s, long long session_s)
    : t_(std::move(t)),
      timeout_ms_(std::max(1LL, timeout_s) * 1000),
      deadline_ms_(session_s > 0 ? now_ms() + session_s * 1000 : 0) {
  in_.resize(kInBuffer);
}

int Conn::wait_ms() {
  long long t = timeout_ms_;
  if (deadline_ms_) {
    long long left = deadline_ms_ - now_ms();
    if (left <= 0) die(reply::kSessionTime);
    t = std::min(t, left);
  }
  return static_cast<int>(std::clamp(t, 1LL, static_cast<long long>(INT_MAX)));
}

void Conn::reply(std::string_view line) {
  out_.append(line);
  out_.append("\r\n");
  if (out_.size() > kOutBuffer) flush();
}

void Conn::flush() {
  if (out_.empty()) return;
  auto st = t_->write(out_, wait_ms());
  out_.clear();
  if (!st) ::_exit(1);  // the client is gone or does not read
}

void Conn::die(std::string_view last_reply, int code) {
  out_.append(last_reply);
  out_.append("\r\n");
  long long t = std::min<long long>(timeout_ms_, kLastReplyMs);
  (void)t_->write(out_, static_cast<int>(t));
  ::_exit(code);
}

void Conn::fill() {
  if (!t_->pending()) flush();
  int wait = wait_ms();
  auto r = t_->read(in_.data(), in_.size(), wait);
  if (!r) {
    if (r.error().code() == ETIMEDOUT) {
      if (deadline_ms_ && now_ms() >= deadline_ms_) die(reply::kSessionTime);
      die(reply::kTimeout);
    }
    ::_exit(1);
  }
  if (*r == 0) ::_exit(1);  // the client went away: qmail's die_read
  in_.resize(kInBuffer);
  pos_ = 0;
  end_ = *r;
}

std::string_view Conn::peek() {
  if (pos_ == end_) fill();
  return std::string_view(in_.data() + pos_, end_ - pos_);
}

void Conn::consume(size_t n) { pos_ += std::min(n, end_ - pos_); }

void Conn::discard_input() { pos_ = end_ = 0; }

bool Conn::read_line(std::string& line, size_t max) {
  line.clear();
  bool too_long = false;
  for (;;) {
    std::string_view v = peek();
    size_t nl = v.find('\n');
    size_t take = nl == std::string_view::npos ? v.size() : nl;
    // One byte of room for the CR that may precede the LF.
    if (!too_long && take > max + 1 - line.size()) {
      too_long = true;
      line.clear();
    }
    if (!too_long) line.append(v.data(), take);
    consume(nl == std::string_view::npos ? v.size() : nl + 1);
    if (nl != std::string_view::npos) break;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (too_long || line.size() > max) {
    line.clear();
    return false;
  }
  return true;
}

}  // namespace qng::smtpd

// buffer.h: a byte string with a hard cap, whose growth is overflow-checked.
//
// Every input kept in memory (an SMTP line, a message header, an envelope)
// lives in a Buffer whose cap is set in code: reaching it is an error value
// (E2BIG, permanent: the input is too big), never a wraparound and never an
// unbounded allocation.
#pragma once

#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>

#include "result.h"
#include "size.h"

namespace qng {

class Buffer {
 public:
  explicit Buffer(size_t cap) : cap_(cap) {}

  [[nodiscard]] Status append(std::string_view s) {
    if (!fits(data_.size(), s.size(), cap_)) return Error::perm("input too large", E2BIG);
    data_.append(s);
    return {};
  }
  [[nodiscard]] Status push_back(char c) { return append(std::string_view(&c, 1)); }
  // Grows to n bytes (zero filled) within the cap.
  [[nodiscard]] Status resize(size_t n) {
    if (n > cap_) return Error::perm("input too large", E2BIG);
    data_.resize(n);
    return {};
  }

  void clear() { data_.clear(); }
  size_t size() const { return data_.size(); }
  size_t cap() const { return cap_; }
  size_t room() const { return cap_ - data_.size(); }
  bool empty() const { return data_.empty(); }
  std::string_view view() const { return data_; }
  const std::string& str() const { return data_; }
  std::string take() { return std::move(data_); }
  char* data() { return data_.data(); }

 private:
  size_t cap_;
  std::string data_;
};

}  // namespace qng

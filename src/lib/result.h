// result.h: Error and Result<T>, the one error model of qmail-ng.
//
// The library reports and the program decides: library functions return
// Result<T>; only a program turns an Error into an exit code or a reply.
// An Error carries errno (0 when the failure is not a system call's) and the
// context of what was being done, and says whether retrying can help.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "error.h"

namespace qng {

class Error {
 public:
  Error() = default;

  // A failed system call: temporary or permanent as is_temp(errno) says.
  static Error sys(int err, std::string context) {
    return Error(err, !is_temp(err), std::move(context));
  }
  // The same with the current errno.
  static Error last(std::string context) { return sys(errno, std::move(context)); }
  // Failures that no retry can mend: bad syntax, no such user, too big.
  static Error perm(std::string context, int err = 0) {
    return Error(err, true, std::move(context));
  }
  // Failures that may pass: resources, timeouts, anything unknown.
  static Error temp(std::string context, int err = 0) {
    return Error(err, false, std::move(context));
  }

  int code() const { return code_; }
  bool permanent() const { return permanent_; }
  bool temporary() const { return !permanent_; }
  const std::string& context() const { return context_; }
  // "context: strerror" or just the context when there is no errno.
  std::string message() const;

 private:
  Error(int code, bool permanent, std::string context)
      : code_(code), permanent_(permanent), context_(std::move(context)) {}

  int code_ = 0;
  bool permanent_ = false;  // unknown means temporary
  std::string context_;
};

// Result<T>: a T, or the Error that kept us from making one.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace qng

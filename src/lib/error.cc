// error.cc: is_temp() and Error::message().
#include "error.h"

#include <cerrno>
#include <cstring>

#include "result.h"

namespace qng {

bool is_temp(int err) {
  switch (err) {
    case EINTR: case ENOMEM: case ETXTBSY: case EIO: case ETIMEDOUT:
    case EAGAIN: case EDEADLK: case EBUSY: case ENFILE: case EMFILE:
    case EFBIG: case ENOSPC: case ENETDOWN: case ENETUNREACH: case ENETRESET:
    case ECONNABORTED: case ECONNRESET: case ECONNREFUSED: case EHOSTDOWN:
    case EHOSTUNREACH: case EDQUOT: case ESTALE: case ENOLCK: case ENOBUFS:
    case EPIPE: case EREMOTEIO: case EPROTO:
      return true;
    default:
      return false;
  }
}

std::string Error::message() const {
  if (code_ == 0) return context_;
  std::string s = context_;
  if (!s.empty()) s += ": ";
  s += std::strerror(code_);
  return s;
}

}  // namespace qng

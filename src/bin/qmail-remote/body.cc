// body.cc: the DATA encoding (body.h).
#include "body.h"

namespace qng::remote {

void BodyEncoder::feed(std::string_view in, std::string& out) {
  out.reserve(out.size() + in.size() + in.size() / 16 + 8);
  for (char c : in) {
    if (pending_cr_) {
      pending_cr_ = false;
      out += "\r\n";
      at_line_start_ = true;
      if (c == '\n') continue;  // CRLF: one line break
    }
    if (c == '\r') {
      pending_cr_ = true;
      continue;
    }
    if (c == '\n') {
      out += "\r\n";
      at_line_start_ = true;
      continue;
    }
    if (at_line_start_ && c == '.') out.push_back('.');
    out.push_back(c);
    at_line_start_ = false;
  }
}

void BodyEncoder::finish(std::string& out) {
  if (pending_cr_) {
    pending_cr_ = false;
    out += "\r\n";
    at_line_start_ = true;
  }
  if (!at_line_start_) out += "\r\n";
  out += ".\r\n";
  at_line_start_ = true;
}

std::string encode_body(std::string_view message) {
  BodyEncoder e;
  std::string out;
  e.feed(message, out);
  e.finish(out);
  return out;
}

bool has_8bit(std::string_view data) {
  for (char c : data)
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

}  // namespace qng::remote

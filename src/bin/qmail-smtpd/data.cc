// data.cc: the DATA state machine (see data.h).
#include "data.h"

namespace qng::smtpd {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

void DataReader::count_header(char c) {
  if (!in_header_) return;
  if (line_pos_ == 0 && c == '\n') {  // the empty line ends the header
    in_header_ = false;
    return;
  }
  constexpr std::string_view kReceived = "received";
  constexpr std::string_view kDelivered = "delivered";
  if (line_pos_ < kDelivered.size()) {
    if (maybe_delivered_ && lower(c) != kDelivered[line_pos_]) maybe_delivered_ = false;
    if (maybe_delivered_ && line_pos_ == kDelivered.size() - 1) ++hops_;
    if (line_pos_ < kReceived.size()) {
      if (maybe_received_ && lower(c) != kReceived[line_pos_]) maybe_received_ = false;
      if (maybe_received_ && line_pos_ == kReceived.size() - 1) ++hops_;
    }
  }
  if (c == '\n') {
    line_pos_ = 0;
    maybe_received_ = maybe_delivered_ = true;
  } else {
    ++line_pos_;
  }
}

void DataReader::emit(char c, std::string& out) {
  if (refused()) return;
  if (databytes_ != 0 && stored_ >= databytes_) {
    too_big_ = true;
    return;
  }
  ++stored_;
  out.push_back(c);
  count_header(c);
}

size_t DataReader::feed(std::string_view in, std::string& out) {
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\0') nul_ = true;  // never stored; the state moves on as for text
    switch (state_) {
      case kLineStart:
        if (c == '.') {
          state_ = kDot;
        } else if (c == '\r') {
          state_ = kCr;
        } else if (c == '\n') {
          bare_ = true;
          state_ = kText;
        } else {
          emit(c, out);
          state_ = kText;
        }
        break;
      case kText:
        if (c == '\r') {
          state_ = kCr;
        } else if (c == '\n') {
          bare_ = true;
        } else {
          emit(c, out);
        }
        break;
      case kCr:
        if (c == '\n') {
          emit('\n', out);
          state_ = kLineStart;
        } else {
          bare_ = true;  // the CR before this byte stands alone
          if (c != '\r') state_ = kText;
        }
        break;
      case kDot:
        if (c == '\r') {
          state_ = kDotCr;
        } else {
          if (c == '\n') bare_ = true;
          else emit(c, out);  // the leading dot goes: "..x" -> ".x"
          state_ = kText;
        }
        break;
      case kDotCr:
        if (c == '\n') {
          state_ = kDone;
          return i + 1;
        }
        bare_ = true;
        state_ = c == '\r' ? kCr : kText;
        break;
      case kDone:
        return i;
    }
  }
  return in.size();
}

DataReader::Verdict DataReader::verdict() const {
  if (bare_) return Verdict::kBareLineEnd;
  if (nul_) return Verdict::kNul;
  if (hops_ >= kMaxHops) return Verdict::kHops;  // qmail checks hops before size
  if (too_big_) return Verdict::kTooBig;
  return Verdict::kOk;
}

}  // namespace qng::smtpd

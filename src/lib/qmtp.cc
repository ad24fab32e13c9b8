// qmtp.cc: QMTP packages and QMQP requests on the wire (see qmtp.h).
#include "qmtp.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "control.h"
#include "netstring.h"
#include "size.h"

namespace qng {

namespace {

constexpr size_t kChunk = 65536;  // message bytes read at a time

Error malformed(const char* what) {
  return Error::perm(std::string("malformed QMTP/QMQP input: ") + what, EPROTO);
}
Error ended() { return Error::temp("input ended inside a package", EPIPE); }
Error too_long() { return Error::temp("length field too large", E2BIG); }
Error out_of_order(const char* what) {
  return Error::perm(std::string("protocol reader used out of order: ") + what, EINVAL);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Takes n bytes from the budget of the enclosing netstring (nullptr: none).
Status spend(uint64_t* budget, uint64_t n) {
  if (!budget) return {};
  if (n > *budget) return malformed("netstring runs past its container");
  *budget -= n;
  return {};
}

Result<char> next_byte(Reader& in, uint64_t* budget) {
  if (auto s = spend(budget, 1); !s) return s.error();
  char c = 0;
  auto g = in.get(c);
  if (!g) return g.error();
  if (!*g) return ended();
  return c;
}

// "digits:" with the first byte possibly read already. No leading zeros
// (netstrings have none); a value above max is E2BIG before it can wrap.
Result<uint64_t> read_length(Reader& in, uint64_t* budget, uint64_t max,
                             std::optional<char> first = std::nullopt) {
  char c = 0;
  if (first) {
    c = *first;
  } else {
    auto b = next_byte(in, budget);
    if (!b) return b.error();
    c = *b;
  }
  if (!is_digit(c)) return malformed("no length");
  bool zero = c == '0';
  uint64_t v = static_cast<uint64_t>(c - '0');
  if (v > max) return too_long();
  for (;;) {
    auto b = next_byte(in, budget);
    if (!b) return b.error();
    c = *b;
    if (c == ':') return v;
    if (!is_digit(c)) return malformed("no colon");
    if (zero) return malformed("leading zero");
    auto digit = static_cast<uint64_t>(c - '0');
    if (v > max / 10) return too_long();
    v *= 10;
    if (digit > max - v) return too_long();
    v += digit;
  }
}

Status read_comma(Reader& in, uint64_t* budget) {
  auto b = next_byte(in, budget);
  if (!b) return b.error();
  if (*b != ',') return malformed("no comma");
  return {};
}

Status read_bytes(Reader& in, uint64_t* budget, char* out, size_t n) {
  if (auto s = spend(budget, n); !s) return s.error();
  if (auto s = in.read_exact(out, n); !s) {
    if (s.error().code() == EPIPE) return ended();
    return s.error();
  }
  return {};
}

Status skip_bytes(Reader& in, uint64_t* budget, uint64_t n) {
  if (auto s = spend(budget, n); !s) return s.error();
  char scratch[4096];
  while (n > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(n, sizeof scratch));
    auto r = in.read(scratch, want);
    if (!r) return r.error();
    if (*r == 0) return ended();
    n -= *r;
  }
  return {};
}

// One address netstring. Too long or holding a NUL: read past, not kept.
Result<WireAddress> read_address(Reader& in, uint64_t* budget) {
  auto len = read_length(in, budget, kMaxWireLength);
  if (!len) return len.error();
  WireAddress a;
  if (*len >= kMaxWireAddress) {
    if (auto s = skip_bytes(in, budget, *len); !s) return s.error();
  } else {
    std::string text(static_cast<size_t>(*len), '\0');
    if (auto s = read_bytes(in, budget, text.data(), text.size()); !s) return s.error();
    if (text.find('\0') == std::string::npos) {
      a.address = std::move(text);
      a.acceptable = true;
    }
  }
  if (auto s = read_comma(in, budget); !s) return s.error();
  return a;
}

std::string recipient_list(const std::vector<std::string>& recipients) {
  std::string list;
  for (const auto& r : recipients) append_netstring(list, r);
  return list;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::optional<uint16_t> parse_port(std::string_view s) {
  auto v = parse_decimal(s, 65535);
  if (!v || *v == 0) return std::nullopt;
  return static_cast<uint16_t>(*v);
}

}  // namespace

// --- Building ---

std::string qmtp_package(std::string_view message, std::string_view sender,
                         const std::vector<std::string>& recipients, LineEnds ends) {
  std::string out;
  std::string m;
  m.reserve(message.size() + 1);
  m += ends == LineEnds::kCrlf ? '\r' : '\n';
  m.append(message);
  append_netstring(out, m);
  append_netstring(out, sender);
  append_netstring(out, recipient_list(recipients));
  return out;
}

std::string qmqp_envelope(std::string_view sender, const std::vector<std::string>& recipients) {
  std::string out;
  append_netstring(out, sender);
  out += recipient_list(recipients);
  return out;
}

Result<std::string> qmqp_head(uint64_t message_len, uint64_t envelope_len) {
  std::string mhead = std::to_string(message_len) + ":";
  // inner = "MLEN:" message "," envelope
  auto inner = checked_add(mhead.size(), message_len);
  if (inner) inner = checked_add(*inner, 1);
  if (inner) inner = checked_add(*inner, envelope_len);
  if (!inner) return Error::perm("QMQP request too large", E2BIG);
  return std::to_string(*inner) + ":" + mhead;
}

std::string qmqp_tail(std::string_view envelope) {
  std::string out = ",";
  out.append(envelope);
  out += ',';
  return out;
}

std::string qmqp_request(std::string_view message, std::string_view sender,
                         const std::vector<std::string>& recipients) {
  std::string inner;
  append_netstring(inner, message);
  inner += qmqp_envelope(sender, recipients);
  return netstring(inner);
}

// --- Replies ---

Result<WireReply> parse_reply(std::string_view body) {
  if (body.empty()) return malformed("empty reply");
  char code = body[0];
  if (code != 'K' && code != 'Z' && code != 'D') return malformed("reply is not K, Z or D");
  return WireReply{code, std::string(body.substr(1))};
}

Result<WireReply> read_reply(Reader& in, size_t max) {
  auto body = read_netstring(in, max);
  if (!body) return body.error();
  return parse_reply(*body);
}

// --- Message bytes ---

void CrlfToLf::feed(std::string_view in, std::string& out) {
  for (char c : in) {
    if (cr_) {
      cr_ = false;
      if (c == '\n') {
        out += '\n';
        continue;
      }
      out += '\r';
    }
    if (c == '\r')
      cr_ = true;
    else
      out += c;
  }
}

void CrlfToLf::finish(std::string& out) {
  if (cr_) out += '\r';
  cr_ = false;
}

void HopCounter::feed(std::string_view stored) {
  constexpr std::string_view kReceived = "received";
  constexpr std::string_view kDelivered = "delivered";
  for (char c : stored) {
    if (!in_header_) return;
    if (pos_ == 0 && c == '\n') {  // the empty line ends the header
      in_header_ = false;
      return;
    }
    if (pos_ < kDelivered.size()) {
      char l = lower(c);
      if (maybe_delivered_) {
        if (l != kDelivered[pos_])
          maybe_delivered_ = false;
        else if (pos_ == kDelivered.size() - 1)
          ++hops_;
      }
      if (pos_ < kReceived.size() && maybe_received_) {
        if (l != kReceived[pos_])
          maybe_received_ = false;
        else if (pos_ == kReceived.size() - 1)
          ++hops_;
      }
    }
    if (c == '\n') {
      pos_ = 0;
      maybe_received_ = maybe_delivered_ = true;
    } else if (pos_ < kDelivered.size()) {
      ++pos_;
    }
  }
}

// --- QMTP ---

QmtpReader::QmtpReader(Reader& in) : in_(in) {}

Result<bool> QmtpReader::begin() {
  if (state_ != State::kIdle) return out_of_order("begin");
  char c = 0;
  auto g = in_.get(c);
  if (!g) return g.error();
  if (!*g) return false;
  auto len = read_length(in_, nullptr, kMaxWireLength, c);
  if (!len) return len.error();
  if (*len == 0) return malformed("message without its encoding byte");
  auto e = next_byte(in_, nullptr);
  if (!e) return e.error();
  if (*e == '\n')
    ends_ = LineEnds::kLf;
  else if (*e == '\r')
    ends_ = LineEnds::kCrlf;
  else
    return malformed("encoding byte is neither LF nor CR");
  left_ = *len - 1;
  crlf_ = CrlfToLf();
  state_ = State::kMessage;
  return true;
}

Result<std::string_view> QmtpReader::message() {
  if (state_ == State::kSender) return std::string_view();
  if (state_ != State::kMessage) return out_of_order("message");
  out_.clear();
  while (left_ > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(left_, kChunk));
    raw_.resize(want);
    auto r = in_.read(raw_.data(), want);
    if (!r) return r.error();
    if (*r == 0) return ended();
    left_ -= *r;
    std::string_view piece(raw_.data(), *r);
    if (ends_ == LineEnds::kLf) return piece;
    crlf_.feed(piece, out_);
    if (!out_.empty()) return std::string_view(out_);
  }
  // The whole message is in: a CR held back at its very end, then ','.
  if (ends_ == LineEnds::kCrlf) crlf_.finish(out_);
  if (auto s = read_comma(in_, nullptr); !s) return s.error();
  state_ = State::kSender;
  return std::string_view(out_);
}

Result<WireAddress> QmtpReader::sender() {
  if (state_ != State::kSender) return out_of_order("sender");
  auto a = read_address(in_, nullptr);
  if (!a) return a.error();
  state_ = State::kRecipients;
  return a;
}

Result<std::optional<WireAddress>> QmtpReader::recipient() {
  if (state_ == State::kRecipients) {
    auto len = read_length(in_, nullptr, kMaxWireLength);
    if (!len) return len.error();
    left_ = *len;
    state_ = State::kRecipientList;
  }
  if (state_ != State::kRecipientList) return out_of_order("recipient");
  if (left_ == 0) {
    if (auto s = read_comma(in_, nullptr); !s) return s.error();
    state_ = State::kIdle;
    return std::optional<WireAddress>();
  }
  auto a = read_address(in_, &left_);
  if (!a) return a.error();
  return std::optional<WireAddress>(std::move(*a));
}

// --- QMQP ---

QmqpReader::QmqpReader(Reader& in) : in_(in) {}

Result<bool> QmqpReader::begin() {
  if (state_ != State::kIdle) return out_of_order("begin");
  char c = 0;
  auto g = in_.get(c);
  if (!g) return g.error();
  if (!*g) return false;
  auto outer = read_length(in_, nullptr, kMaxWireLength, c);
  if (!outer) return outer.error();
  left_ = *outer;
  auto mlen = read_length(in_, &left_, kMaxWireLength);
  if (!mlen) return mlen.error();
  if (*mlen >= left_) return malformed("message runs past the request");  // and its comma
  message_length_ = message_left_ = *mlen;
  state_ = State::kMessage;
  return true;
}

Result<std::string_view> QmqpReader::message() {
  if (state_ == State::kSender) return std::string_view();
  if (state_ != State::kMessage) return out_of_order("message");
  if (message_left_ > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(message_left_, kChunk));
    raw_.resize(want);
    auto r = in_.read(raw_.data(), want);
    if (!r) return r.error();
    if (*r == 0) return ended();
    message_left_ -= *r;
    left_ -= *r;  // begin() made sure the message fits
    return std::string_view(raw_.data(), *r);
  }
  if (auto s = read_comma(in_, &left_); !s) return s.error();
  state_ = State::kSender;
  return std::string_view();
}

Result<WireAddress> QmqpReader::sender() {
  if (state_ != State::kSender) return out_of_order("sender");
  auto a = read_address(in_, &left_);
  if (!a) return a.error();
  state_ = State::kRecipients;
  return a;
}

Result<std::optional<WireAddress>> QmqpReader::recipient() {
  if (state_ != State::kRecipients) return out_of_order("recipient");
  if (left_ == 0) {
    if (auto s = read_comma(in_, nullptr); !s) return s.error();
    state_ = State::kDone;
    return std::optional<WireAddress>();
  }
  auto a = read_address(in_, &left_);
  if (!a) return a.error();
  return std::optional<WireAddress>(std::move(*a));
}

// --- Servers ---

int wire_exit_code(const Error& e) {
  if (e.code() == EPIPE || e.code() == ECONNRESET) return 0;
  if (e.code() == EPROTO) return 100;
  return 111;
}

Result<uint64_t> databytes_limit(const std::string& control_dir) {
  auto databytes = Control(control_dir).number("databytes", 0);
  if (!databytes) return databytes.error();
  const char* d = std::getenv("DATABYTES");
  if (!d) return *databytes;
  std::string_view s(d);
  size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  return parse_decimal(s.substr(0, n)).value_or(0);
}

// --- QMQP servers ---

std::optional<ServerAddress> parse_server_address(std::string_view line) {
  if (line.empty()) return std::nullopt;
  if (line.front() == '[') {
    size_t close = line.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    auto ip = parse_ip(line.substr(1, close - 1));
    if (!ip) return std::nullopt;
    std::string_view rest = line.substr(close + 1);
    if (rest.empty()) return ServerAddress{*ip, kQmqpPort};
    if (rest.front() != ':') return std::nullopt;
    auto port = parse_port(rest.substr(1));
    if (!port) return std::nullopt;
    return ServerAddress{*ip, *port};
  }
  if (auto ip = parse_ip(line)) return ServerAddress{*ip, kQmqpPort};
  size_t colon = line.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto ip = parse_ip(line.substr(0, colon));
  if (!ip || ip->family != AF_INET) return std::nullopt;  // IPv6 needs [..]:port
  auto port = parse_port(line.substr(colon + 1));
  if (!port) return std::nullopt;
  return ServerAddress{*ip, *port};
}

}  // namespace qng

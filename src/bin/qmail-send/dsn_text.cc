// dsn_text.cc: RFC 3464 bounces (dsn_text.h).
#include "dsn_text.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "date.h"
#include "fd.h"
#include "ip.h"

namespace qng::send {
namespace {

constexpr std::string_view kRemoteSaid = "Remote host said: ";
constexpr size_t kFoldAt = 78;                // where fields are folded when they can be
constexpr size_t kParagraphMax = 1 << 20;     // of a paragraph, what part 2 reads
constexpr unsigned kBoundaryTries = 16;
constexpr size_t kBoundaryMax = 70;           // RFC 2046
constexpr std::string_view kBoundaryPrefix = "=_qmail-send_";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "x.y.z" at the start of s (x one digit 2, 4 or 5; y, z one to three
// digits), its length in *len; leading zeros are dropped, as RFC 3464 wants.
std::optional<StatusCode> parse_code(std::string_view s, size_t* len) {
  if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
    return std::nullopt;
  StatusCode code;
  code.cls = static_cast<unsigned>(s[0] - '0');
  size_t i = 2;
  for (unsigned* part : {&code.subject, &code.detail}) {
    size_t start = i;
    unsigned v = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < 3) v = v * 10 + (s[i++] - '0');
    if (i == start || (i < s.size() && is_digit(s[i]))) return std::nullopt;
    *part = v;
    if (part == &code.subject) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
  }
  *len = i;
  return code;
}

// The last "(#x.y.z)" of a report with class 4 or 5.
std::optional<StatusCode> last_hash_code(std::string_view report) {
  std::optional<StatusCode> found;
  for (size_t pos = report.find("(#"); pos != std::string_view::npos;
       pos = report.find("(#", pos + 2)) {
    size_t len = 0;
    auto code = parse_code(report.substr(pos + 2), &len);
    if (code && code->cls != 2 && pos + 2 + len < report.size() && report[pos + 2 + len] == ')')
      found = code;
  }
  return found;
}

// "250", "550-", "550 " at the start of an SMTP reply line: its code, or 0.
unsigned reply_code(std::string_view line) {
  if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) return 0;
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return 0;
  return static_cast<unsigned>((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
}

// An RFC 2034 code after the reply code of the first line, when its class
// is the reply's (RFC 2034 requires that).
std::optional<StatusCode> enhanced_code(std::string_view line, unsigned reply) {
  if (reply < 400 || reply > 599 || line.size() < 4) return std::nullopt;
  std::string_view rest = line.substr(4);
  size_t len = 0;
  auto code = parse_code(rest, &len);
  if (!code || code->cls != reply / 100) return std::nullopt;
  if (len < rest.size() && rest[len] != ' ') return std::nullopt;
  return code;
}

// The IP that opens qmail-remote's text: "IP does not like recipient.",
// "Connected to IP but ...", "IP failed after I sent the message.",
// "Giving up on IP.".
std::string remote_ip(std::string_view report) {
  std::string_view first = report.substr(0, report.find('\n'));
  for (std::string_view prefix : {"Connected to ", "Giving up on "})
    if (first.substr(0, prefix.size()) == prefix) {
      first.remove_prefix(prefix.size());
      break;
    }
  std::string_view token = first.substr(0, first.find(' '));
  if (!token.empty() && token.back() == '.') token.remove_suffix(1);
  return parse_ip(token) ? std::string(token) : std::string();
}

// The lines of s joined by single spaces, empty lines dropped.
std::string join_lines(std::string_view s) {
  std::string out;
  while (!s.empty()) {
    size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    if (!line.empty()) {
      if (!out.empty()) out += ' ';
      out.append(line);
    }
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return out;
}

bool has_8bit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) > 127; });
}

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF).
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (n > s.size() - i - 1) return false;
    for (size_t k = 1; k <= n; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return false;
    }
    i += n + 1;
  }
  return true;
}

std::string_view without_newline(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  return line;
}

std::string recipient_fields(const DsnRecipient& r) {
  std::string s = "\n";
  s += dsn_field("Final-Recipient", "rfc822; " + r.recipient);
  s += dsn_field("Action", "failed");
  s += dsn_field("Status", r.status.text());
  if (!r.remote_mta.empty()) s += dsn_field("Remote-MTA", "dns; " + r.remote_mta);
  s += dsn_field("Diagnostic-Code", r.diagnostic_type + "; " + r.diagnostic);
  return s;
}

// Header, preamble, the head of part 1 and the intro paragraph.
std::string dsn_start(const BounceHead& head, const DsnHead& dsn, bool utf8) {
  std::string s = bounce_header(head);
  s += "Message-ID: " + dsn.message_id + "\n";
  s += "Auto-Submitted: auto-replied\n";
  s += "MIME-Version: 1.0\n";
  s += "Content-Type: multipart/report; report-type=delivery-status;\n";
  s += "\tboundary=\"" + dsn.boundary + "\"\n";
  s += "\n";
  s += "This is a MIME-encapsulated message.\n";
  s += "\n";
  s += "--" + dsn.boundary + "\n";
  if (utf8) {
    s += "Content-Type: text/plain; charset=utf-8\n";
    s += "Content-Transfer-Encoding: 8bit\n";
  } else {
    s += "Content-Type: text/plain; charset=us-ascii\n";
  }
  s += "\n";
  std::string intro_text = bounce_intro_text(head);
  std::string_view intro = intro_text;
  while (!intro.empty()) {
    size_t nl = intro.find('\n');
    s += dsn_text_line(intro.substr(0, nl), utf8);
    intro.remove_prefix(nl == std::string_view::npos ? intro.size() : nl + 1);
  }
  return s;
}

// Whether needle occurs in the file, read from offset 0 with pread.
Result<bool> file_contains(int fd, std::string_view needle) {
  constexpr size_t kChunk = 65536;
  std::string buf(kChunk + needle.size(), '\0');
  size_t keep = 0;
  off_t off = 0;
  for (;;) {
    ssize_t r;
    do r = ::pread(fd, buf.data() + keep, kChunk, off);
    while (r == -1 && errno == EINTR);
    if (r == -1) return Error::last("pread");
    if (r == 0) return false;
    off += r;
    size_t have = keep + static_cast<size_t>(r);
    if (std::string_view(buf.data(), have).find(needle) != std::string_view::npos) return true;
    keep = std::min(have, needle.size() - 1);
    std::memmove(buf.data(), buf.data() + have - keep, keep);
  }
}

}  // namespace

std::string StatusCode::text() const {
  return std::to_string(cls) + "." + std::to_string(subject) + "." + std::to_string(detail);
}

DsnRecipient dsn_recipient(std::string_view recipient, std::string_view report) {
  DsnRecipient r;
  r.recipient = std::string(recipient);
  bool too_old = report.find(without_newline(kTooOld)) != std::string_view::npos;
  std::optional<StatusCode> code;
  unsigned reply = 0;

  size_t said = report.find(kRemoteSaid);
  while (said != std::string_view::npos && said > 0 && report[said - 1] != '\n')
    said = report.find(kRemoteSaid, said + 1);
  if (said != std::string_view::npos) {
    // The reply: the line after "Remote host said: " and the lines after
    // it that look like reply lines.
    std::string_view rest = report.substr(said + kRemoteSaid.size());
    std::string_view first = rest.substr(0, rest.find('\n'));
    reply = reply_code(first);
    code = enhanced_code(first, reply);
    std::string text(first);
    rest.remove_prefix(std::min(rest.size(), first.size() + 1));
    while (!rest.empty()) {
      std::string_view line = rest.substr(0, rest.find('\n'));
      if (reply_code(line) == 0) break;
      text += ' ';
      text.append(line);
      rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    }
    r.diagnostic_type = "smtp";
    r.diagnostic = std::move(text);
    r.remote_mta = remote_ip(report);
  } else {
    r.diagnostic_type = "X-Qmail";
    r.diagnostic = join_lines(report);
  }

  if (!code) code = last_hash_code(report);
  if (!code) {
    if (too_old)
      code = StatusCode{4, 4, 7};
    else if (reply >= 400 && reply <= 599)
      code = StatusCode{reply / 100, 0, 0};
    else
      code = StatusCode{5, 0, 0};
  }
  // qmail-send gave up: permanent, unless the queue lifetime ended it.
  if (!too_old) code->cls = 5;
  r.status = *code;
  return r;
}

std::optional<Paragraph> split_paragraph(std::string_view paragraph) {
  size_t nl = paragraph.find('\n');
  std::string_view first = paragraph.substr(0, nl);
  if (first.size() < 3 || first.front() != '<' || first.substr(first.size() - 2) != ">:")
    return std::nullopt;
  Paragraph p;
  p.recipient = std::string(first.substr(1, first.size() - 3));
  if (nl != std::string_view::npos) p.report = std::string(paragraph.substr(nl + 1));
  return p;
}

Result<bool> StringLines::next(std::string& line) {
  if (pos_ >= text_.size()) return false;
  size_t nl = text_.find('\n', pos_);
  size_t end = nl == std::string_view::npos ? text_.size() : nl + 1;
  line.assign(text_.substr(pos_, end - pos_));
  pos_ = end;
  return true;
}

FileLines::FileLines(int fd, size_t max_line)
    : fd_(fd), max_(std::max<size_t>(max_line, 1)), buf_(65536, '\0') {}

Result<bool> FileLines::next(std::string& line) {
  line.clear();
  for (;;) {
    if (pos_ == end_) {
      auto r = read_some(fd_, buf_.data(), buf_.size());
      if (!r) return r.error();
      if (*r == 0) return !line.empty();
      pos_ = 0;
      end_ = *r;
    }
    const char* start = buf_.data() + pos_;
    size_t take = std::min(end_ - pos_, max_ - line.size());
    const void* nl = std::memchr(start, '\n', take);
    if (nl) take = static_cast<size_t>(static_cast<const char*>(nl) - start) + 1;
    line.append(start, take);
    pos_ += take;
    if (nl || line.size() >= max_) return true;
  }
}

Status FileLines::rewind() {
  if (::lseek(fd_, 0, SEEK_SET) == -1) return Error::last("lseek");
  pos_ = end_ = 0;
  return {};
}

std::string make_message_id(time_t now, pid_t pid, uint64_t id, std::string_view host) {
  return "<" + std::to_string(now) + "." + std::to_string(pid) + "." + std::to_string(id) +
         ".qmail-send@" + std::string(host) + ">";
}

std::string make_boundary(time_t now, pid_t pid, uint64_t counter, uint64_t random) {
  static const char kHex[] = "0123456789abcdef";
  std::string hex(16, '0');
  for (int i = 15; i >= 0; --i, random >>= 4) hex[static_cast<size_t>(i)] = kHex[random & 15];
  std::string tail = std::to_string(now) + "_" + std::to_string(pid) + "_" +
                     std::to_string(counter) + "_" + hex;
  size_t room = kBoundaryMax - kBoundaryPrefix.size();
  if (tail.size() > room) tail.erase(0, tail.size() - room);  // keep counter and random
  return std::string(kBoundaryPrefix) + tail;
}

Result<std::string> pick_boundary(const std::function<std::string(unsigned)>& gen,
                                  const std::vector<int>& fds) {
  for (unsigned attempt = 0; attempt < kBoundaryTries; ++attempt) {
    std::string boundary = gen(attempt);
    std::string needle = "--" + boundary;
    bool clash = false;
    for (int fd : fds) {
      auto found = file_contains(fd, needle);
      if (!found) return found.error();
      if (*found) {
        clash = true;
        break;
      }
    }
    if (!clash) return boundary;
  }
  return Error::temp("no MIME boundary that the bounce does not contain");
}

std::string dsn_text_line(std::string_view line, bool utf8) {
  std::string s(without_newline(line));
  for (char& c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f || (u > 0x7f && !utf8)) c = '?';
  }
  std::string out;
  size_t pos = 0;
  while (s.size() - pos > kDsnLineMax) {
    // At the last space of the line's last quarter, else at the limit
    // (moved back to the start of a UTF-8 character).
    size_t cut = s.rfind(' ', pos + kDsnLineMax);
    if (cut != std::string::npos && cut >= pos + kDsnLineMax * 3 / 4) {
      out.append(s, pos, cut - pos);
      out += '\n';
      pos = cut + 1;
      continue;
    }
    cut = pos + kDsnLineMax;
    while (utf8 && cut > pos + 1 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
    out.append(s, pos, cut - pos);
    out += '\n';
    pos = cut;
  }
  out.append(s, pos, std::string::npos);
  out += '\n';
  return out;
}

std::string dsn_field(std::string_view name, std::string_view value) {
  std::string v(value);
  for (char& c : v) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\t') c = ' ';
    else if (u < 0x20 || u > 0x7e) c = '?';
  }
  std::string out(name);
  out += ':';
  size_t col = out.size();
  bool first = true;
  std::string_view rest = v;
  while (first || !rest.empty()) {
    size_t sp = rest.find(' ');
    std::string_view word = rest.substr(0, sp);
    rest.remove_prefix(sp == std::string_view::npos ? rest.size() : sp + 1);
    if (word.empty() && !first) {  // a run of spaces
      if (col < kDsnLineMax) {
        out += ' ';
        ++col;
      }
      continue;
    }
    // The space before the word, or a fold there when the line is full.
    if (!first && col + 1 + word.size() > kFoldAt) {
      out += "\n ";
      col = 1;
    } else {
      out += ' ';
      ++col;
    }
    first = false;
    while (word.size() > kDsnLineMax - col) {  // a word too long for any line
      size_t take = kDsnLineMax - col;
      out.append(word.substr(0, take));
      out += "\n ";
      col = 1;
      word.remove_prefix(take);
    }
    out.append(word);
    col += word.size();
  }
  out += '\n';
  return out;
}

Status write_dsn(const BounceHead& head, const DsnHead& dsn, LineSource& paragraphs,
                 const std::function<void(std::string_view)>& put,
                 const std::function<void()>& put_message) {
  std::string line;

  // Pass 1: the charset of part 1.
  bool eight_bit = false;
  bool utf8_ok = true;
  for (;;) {
    auto got = paragraphs.next(line);
    if (!got) return got.error();
    if (!*got) break;
    if (has_8bit(line)) {
      eight_bit = true;
      if (!valid_utf8(without_newline(line))) utf8_ok = false;
    }
  }
  bool utf8 = eight_bit && utf8_ok;

  // Pass 2: part 1, the QSBMF text.
  put(dsn_start(head, dsn, utf8));
  if (auto st = paragraphs.rewind(); !st) return st;
  bool piece = false;  // the last line came without its '\n' (cut at the cap)
  for (;;) {
    auto got = paragraphs.next(line);
    if (!got) return got.error();
    if (!*got) break;
    if (!(piece && line == "\n")) put(dsn_text_line(line, utf8));
    piece = line.back() != '\n';
  }
  put(dsn_text_line(bounce_break_line(head), utf8));

  // Pass 3: part 2, the delivery status.
  put("\n--" + dsn.boundary + "\n");
  put("Content-Type: message/delivery-status\n\n");
  put(dsn_field("Reporting-MTA", "dns; " + dsn.me));
  put(dsn_field("Arrival-Date", date822(dsn.arrival)));
  if (auto st = paragraphs.rewind(); !st) return st;
  std::string paragraph;
  bool more = true;
  piece = false;
  while (more) {
    auto got = paragraphs.next(line);
    if (!got) return got.error();
    more = *got;
    bool blank = line == "\n" && !piece;
    piece = more && line.back() != '\n';
    if (more && !blank) {
      if (paragraph.size() < kParagraphMax) paragraph += line;
      continue;
    }
    if (paragraph.empty()) continue;
    if (auto p = split_paragraph(without_newline(paragraph)))
      put(recipient_fields(dsn_recipient(p->recipient, p->report)));
    paragraph.clear();
  }

  // Part 3: the message.
  put("\n--" + dsn.boundary + "\n");
  put("Content-Type: message/rfc822\n\n");
  put_message();
  put("\n--" + dsn.boundary + "--\n");
  return {};
}

std::string dsn_message(const BounceHead& head, const DsnHead& dsn, std::string_view paragraphs,
                        std::string_view message) {
  std::string out;
  StringLines lines(paragraphs);
  auto put = [&out](std::string_view s) { out.append(s); };
  Status st = write_dsn(head, dsn, lines, put, [&] { out.append(message); });
  (void)st.ok();  // a string source cannot fail
  return out;
}

}  // namespace qng::send

// message.cc: reading the message and handing it on (qmail's headerbody).
#include "message.h"

#include <algorithm>

namespace qng::inject {
namespace {

// Bytes read past the header cap to tell whether the long line is a header
// field (an error) or the start of a body without a header.
constexpr size_t kClassify = 1024;
constexpr size_t kChunk = 65536;

enum class LineEnd { kEof, kLine, kTooLong };

// Reads through LF into `line`, at most `max` bytes (LF included). kLine
// also for a last line without LF; kEof when nothing was left.
Result<LineEnd> get_line(Reader& in, std::string& line, size_t max) {
  line.clear();
  for (;;) {
    if (line.size() >= max) return LineEnd::kTooLong;
    char c;
    auto r = in.get(c);
    if (!r) return r.error();
    if (!*r) return line.empty() ? LineEnd::kEof : LineEnd::kLine;
    line.push_back(c);
    if (c == '\n') return LineEnd::kLine;
  }
}

bool continues(const std::string& line) {
  return !line.empty() && (line[0] == ' ' || line[0] == '\t');
}

bool mbox_line(const std::string& line) { return line.compare(0, 5, "From ") == 0; }

Error header_too_long(size_t cap) {
  return Error::perm("header too long (more than " + std::to_string(cap) + " bytes)");
}

Error read_error(const Error& e) { return Error::temp("read error: " + e.message()); }

}  // namespace

Result<HeaderEnd> read_header(Reader& in, const std::function<Status(std::string)>& on_field,
                              size_t cap) {
  std::string field;
  bool have_field = false;
  size_t used = 0;
  std::string line;
  for (;;) {
    auto got = get_line(in, line, cap - used);
    if (!got) return read_error(got.error());
    if (*got == LineEnd::kEof) {
      if (have_field) {
        if (auto s = on_field(std::move(field)); !s) return s.error();
      }
      return HeaderEnd{HeaderEnd::kEof, {}};
    }
    if (*got == LineEnd::kTooLong) {
      // Read a little more of the line to see what it is.
      std::string more;
      auto m = get_line(in, more, kClassify);
      if (!m) return read_error(m.error());
      line += more;
      if ((have_field && continues(line)) || mbox_line(line) || field_valid(line))
        return header_too_long(cap);
      if (have_field) {
        if (auto s = on_field(std::move(field)); !s) return s.error();
      }
      return HeaderEnd{HeaderEnd::kBody, std::move(line)};
    }
    used += line.size();
    if (line.back() != '\n') line.push_back('\n');  // the last line of the input

    if (have_field) {
      if (continues(line)) {
        field += line;
        continue;
      }
      if (auto s = on_field(std::move(field)); !s) return s.error();
      have_field = false;
    }
    if (line == "\n") return HeaderEnd{HeaderEnd::kBlank, {}};
    if (mbox_line(line)) {
      field = "MBOX-Line: " + line;
    } else if (field_valid(line)) {
      field = std::move(line);
    } else {
      return HeaderEnd{HeaderEnd::kBody, std::move(line)};
    }
    have_field = true;
  }
}

Status inject_message(Reader& in, HeaderRewriter& rewriter, bool queue, Sink& sink) {
  auto end = read_header(in, [&](std::string f) { return rewriter.field(std::move(f)); });
  if (!end) return end.error();
  auto header = rewriter.finish();
  if (!header) return header.error();
  std::vector<std::string> recipients = rewriter.recipients();
  if (queue && recipients.empty()) return Error::perm("no recipients");
  // The envelope is NUL-terminated records: a NUL cannot be in an address.
  auto has_nul = [](const std::string& a) { return a.find('\0') != std::string::npos; };
  if (has_nul(rewriter.sender()) || std::any_of(recipients.begin(), recipients.end(), has_nul))
    return Error::perm("an address contains a NUL byte");

  if (auto s = sink.begin(rewriter.sender(), recipients); !s) return s;
  sink.put(*header);
  if (end->kind == HeaderEnd::kEof) return sink.end();

  // The body: copied as it comes; only a missing final LF is added.
  sink.put("\n");
  char last = '\n';
  if (end->kind == HeaderEnd::kBody) {
    sink.put(end->first_line);
    last = end->first_line.back();
  }
  std::string chunk(kChunk, '\0');
  for (;;) {
    auto n = in.read(chunk.data(), chunk.size());
    if (!n) return read_error(n.error());
    if (*n == 0) break;
    sink.put(std::string_view(chunk.data(), *n));
    last = chunk[*n - 1];
  }
  if (last != '\n') sink.put("\n");
  return sink.end();
}

Status QueueSink::begin(const std::string& sender, const std::vector<std::string>& recipients) {
  auto c = QueueClient::start(home_);
  if (!c) return Error::temp("unable to run qmail-queue: " + c.error().message());
  client_.emplace(std::move(*c));
  sender_ = sender;
  recipients_ = recipients;
  return {};
}

void QueueSink::put(std::string_view bytes) {
  if (client_) client_->put(bytes);
}

Status QueueSink::end() {
  if (!client_) return Error::temp("unable to run qmail-queue");
  client_->from(sender_);
  for (const auto& r : recipients_) client_->to(r);
  std::string text = client_->finish();
  client_.reset();
  if (text.empty()) return {};
  if (text[0] == 'D') return Error::perm(text.substr(1));
  return Error::temp(text.substr(1));
}

Status PrintSink::end() {
  if (auto s = out_.flush(); !s)
    return Error::temp("unable to write output: " + s.error().message());
  return {};
}

}  // namespace qng::inject

// message.h: reading the message (header fields, then the body, streamed)
// and handing the result to the queue or to standard output.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "header.h"
#include "io.h"
#include "qqclient.h"
#include "result.h"

namespace qng::inject {

// Where the rewritten message goes.
class Sink {
 public:
  virtual ~Sink() = default;
  // Called once, after the header was read, before any byte is put.
  virtual Status begin(const std::string& sender, const std::vector<std::string>& recipients) = 0;
  virtual void put(std::string_view bytes) = 0;
  // After the last byte: success, or why the message was not taken.
  virtual Status end() = 0;
};

// How the header ended (qmail's headerbody).
struct HeaderEnd {
  enum Kind {
    kEof,    // at end of input: no body
    kBlank,  // at an empty line: the body follows it
    kBody,   // at a line that is no header field: it starts the body
  } kind = kEof;
  std::string first_line;  // kBody: that line
};

// Reads header fields from `in` and passes each (continuation lines
// joined, every line ending in LF) to `on_field`. A line "From ..." becomes
// the field "MBOX-Line: From ...". A line that starts no field ends the
// header and becomes the body's first line. At most kMaxHeader bytes are
// read as header; past that a permanent error, unless the long line is no
// header field (then it starts the body).
Result<HeaderEnd> read_header(Reader& in, const std::function<Status(std::string)>& on_field,
                              size_t cap = kMaxHeader);

// The whole of qmail-inject after the arguments: the header through
// `rewriter`, then (with queue) the check for recipients, then the sink
// gets the new header, an empty line when a body follows, and the body
// copied in pieces; a last line without LF gets one.
Status inject_message(Reader& in, HeaderRewriter& rewriter, bool queue, Sink& sink);

// The sinks of the program: qmail-queue (via $QMAILQUEUE when set), or
// standard output for -n.
class QueueSink : public Sink {
 public:
  explicit QueueSink(std::string home) : home_(std::move(home)) {}
  Status begin(const std::string& sender, const std::vector<std::string>& recipients) override;
  void put(std::string_view bytes) override;
  Status end() override;

 private:
  std::string home_;
  std::optional<QueueClient> client_;
  std::string sender_;
  std::vector<std::string> recipients_;
};

class PrintSink : public Sink {
 public:
  PrintSink() : out_(1) {}
  Status begin(const std::string&, const std::vector<std::string>&) override { return {}; }
  void put(std::string_view bytes) override { out_.put(bytes); }
  Status end() override;

 private:
  Writer out_;
};

}  // namespace qng::inject

// qmtp.h: the wire formats of QMTP (port 209) and QMQP (port 628), D. J.
// Bernstein's netstring protocols (cr.yp.to/proto/qmtp.txt, qmqp.html).
//
//   QMTP package:  netstring(E message) netstring(sender)
//                  netstring(netstring(r1) netstring(r2) ...)
//     E is LF when the message has LF line ends, CR when it has CRLF line
//     ends (the server stores LF). A client may send several packages on one
//     connection without waiting; after the last byte of each package the
//     server answers one netstring per recipient, in order: "K" (accepted),
//     "Z" (temporary failure) or "D" (permanent failure), then text.
//   QMQP request:  netstring( netstring(message) netstring(sender)
//                             netstring(r1) netstring(r2) ... )
//     one per connection; the server answers one K/Z/D netstring.
//
// The readers stream: a message is handed out in pieces as it arrives and
// is never held whole. Every length field is parsed against a cap before
// anything is allocated. An address of kMaxWireAddress bytes or more, or
// one holding a NUL, is read past, never stored, and reported as
// unacceptable (qmail refuses such addresses with a D reply).
//
// Stream errors: EPIPE when the input ends inside a package or request
// (the peer gave up; nothing may be delivered); EPROTO when it is malformed
// (qmail exits 100); E2BIG when a length exceeds kMaxWireLength (qmail's
// "resources", exit 111); anything else comes from the Reader (timeouts,
// read errors).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io.h"
#include "ip.h"
#include "received.h"  // TcpPeer and the Received line of both servers
#include "result.h"

namespace qng {

// qmail-qmtpd and qmail-qmqpd refuse an address of 1000 bytes or more.
constexpr size_t kMaxWireAddress = 1000;
// The largest length field either server parses (1 TiB); qmail gave up
// near 2 GB. A longer one is a resource problem, not a protocol error.
constexpr uint64_t kMaxWireLength = uint64_t{1} << 40;
// Replies are short texts; a client reads at most this much of one.
constexpr size_t kMaxReplyBytes = 10000;
// Well-known ports.
constexpr uint16_t kQmtpPort = 209;
constexpr uint16_t kQmqpPort = 628;

enum class LineEnds { kLf, kCrlf };

// --- Building (clients, tests) ---

// One QMTP package. The message is sent as given; `ends` says which line
// ends it has (and so which encoding byte precedes it).
std::string qmtp_package(std::string_view message, std::string_view sender,
                         const std::vector<std::string>& recipients,
                         LineEnds ends = LineEnds::kLf);

// A whole QMQP request.
std::string qmqp_request(std::string_view message, std::string_view sender,
                         const std::vector<std::string>& recipients);

// A QMQP request in pieces, for a client that streams the message:
//   qmqp_head(message_len, envelope.size()) + message + qmqp_tail(envelope)
// where envelope = qmqp_envelope(sender, recipients). E2BIG on overflow.
std::string qmqp_envelope(std::string_view sender, const std::vector<std::string>& recipients);
Result<std::string> qmqp_head(uint64_t message_len, uint64_t envelope_len);
std::string qmqp_tail(std::string_view envelope);

// --- Replies ---

struct WireReply {
  char code = 'Z';   // 'K', 'Z' or 'D'
  std::string text;  // what follows the code
};

// The contents of one reply netstring; EPROTO when empty or not K/Z/D.
Result<WireReply> parse_reply(std::string_view body);
// Reads one reply netstring (at most max bytes) and parses it. EPIPE when
// the input ends before it.
Result<WireReply> read_reply(Reader& in, size_t max = kMaxReplyBytes);

// --- Message bytes ---

// qmail-qmtpd's CRLF -> LF: a CR right before LF goes; any other CR stays
// (CR CR LF -> CR LF; a final CR is kept).
class CrlfToLf {
 public:
  void feed(std::string_view in, std::string& out);
  // The end of the message: a CR still held back is written out.
  void finish(std::string& out);

 private:
  bool cr_ = false;
};

// qmail-smtpd's loop detection over stored message bytes: the number of
// header lines (up to the first empty line) starting with "Received" or
// "Delivered", in any case. kMaxHops or more refuse the message.
constexpr unsigned kMaxHops = 100;
class HopCounter {
 public:
  void feed(std::string_view stored);
  unsigned hops() const { return hops_; }
  bool looping() const { return hops_ >= kMaxHops; }

 private:
  bool in_header_ = true;
  size_t pos_ = 0;  // bytes of the current line seen so far
  bool maybe_received_ = true;
  bool maybe_delivered_ = true;
  unsigned hops_ = 0;
};

// --- Reading (servers) ---

// An envelope address as the wire carried it.
struct WireAddress {
  std::string address;      // empty unless acceptable
  bool acceptable = false;  // false: kMaxWireAddress bytes or more, or a NUL
};

// Reads QMTP packages from a stream, one after another. Per package call
// begin(), message() until it returns an empty piece, sender(), then
// recipient() until it returns nullopt. Calls out of order fail (EINVAL).
class QmtpReader {
 public:
  explicit QmtpReader(Reader& in);

  // Starts the next package (its message length and encoding byte).
  // false: the input ended cleanly where a package could begin.
  Result<bool> begin();
  LineEnds line_ends() const { return ends_; }
  // The next piece of the message as it is to be stored (line ends
  // already LF); empty once the message netstring is complete. The view is
  // valid until the next call.
  Result<std::string_view> message();
  Result<WireAddress> sender();
  // The next recipient; nullopt once the recipient list (and with it the
  // package) is complete.
  Result<std::optional<WireAddress>> recipient();

 private:
  enum class State { kIdle, kMessage, kSender, kRecipients, kRecipientList };

  Reader& in_;
  State state_ = State::kIdle;
  LineEnds ends_ = LineEnds::kLf;
  uint64_t left_ = 0;  // message bytes still to read, or recipient list bytes
  CrlfToLf crlf_;
  std::string raw_;
  std::string out_;
};

// Reads one QMQP request: begin(), message() until empty, sender(), then
// recipient() until nullopt (which also reads the closing comma).
class QmqpReader {
 public:
  explicit QmqpReader(Reader& in);

  // The request's length and its message's length. false: the input
  // ended before the first byte.
  Result<bool> begin();
  uint64_t message_length() const { return message_length_; }
  Result<std::string_view> message();
  Result<WireAddress> sender();
  Result<std::optional<WireAddress>> recipient();

 private:
  enum class State { kIdle, kMessage, kSender, kRecipients, kDone };

  Reader& in_;
  State state_ = State::kIdle;
  uint64_t left_ = 0;    // bytes of the outer netstring still unread
  uint64_t message_length_ = 0;
  uint64_t message_left_ = 0;
  std::string raw_;
};

// --- Servers (qmail-qmtpd, qmail-qmqpd) ---

// A reader's error as the server's exit code: the client went away (0, as
// qmail's saferead), sent garbage (100), or anything else (111).
int wire_exit_code(const Error& e);

// The message size limit: control/databytes (0: none), overridden by
// $DATABYTES, whose leading digits count as in qmail's scan_ulong (none, or
// too many, give 0). `control_dir` is QMAILHOME/control.
Result<uint64_t> databytes_limit(const std::string& control_dir);

// --- QMQP servers (control/qmqpservers) ---

struct ServerAddress {
  IpAddress ip;
  uint16_t port = kQmqpPort;
};

// One line of control/qmqpservers: an IP address (IPv4 or IPv6), as in
// qmail; as our addition "IPv4:port" or "[IP]:port" names another port
// (an IPv6 address with a port needs the brackets). nullopt: not an
// address (qmail-qmqpc skips such lines).
std::optional<ServerAddress> parse_server_address(std::string_view line);

}  // namespace qng

// qmqpc.h: qmail-qmqpc's parts: the instance it works for, the message
// spool, qmail-queue's envelope, and one attempt at one QMQP server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fd.h"
#include "io.h"
#include "qmtp.h"
#include "result.h"

namespace qng::qmqpc {

// Exit codes: qmail-queue's, as qmail-qmqpc gives them (qmail-queue(8)).
constexpr int kOk = 0;          // the server said K
constexpr int kTooLong = 11;    // an envelope address longer than qmail-queue takes
constexpr int kPerm = 31;       // the server said D
constexpr int kNoMem = 51;      // out of memory, or an envelope beyond kMaxEnvelope
constexpr int kWriteError = 53; // the spool file could not be written
constexpr int kReadError = 54;  // message or envelope unreadable
constexpr int kControl = 55;    // control/qmqpservers missing, unreadable or empty
constexpr int kSocket = 56;     // no socket
constexpr int kHome = 61;       // cannot chdir to the instance
constexpr int kTemp = 71;       // the server said Z
constexpr int kTimeout = 72;    // the last server tried timed out
constexpr int kRefused = 73;    // the last server tried refused the connection
constexpr int kConn = 74;       // communication failed after the connection was made
constexpr int kFormat = 91;     // envelope format error

constexpr int kConnectSeconds = 10;
constexpr int kIoSeconds = 60;
// qmail-queue's limit: an address of up to 1002 bytes.
constexpr size_t kMaxQueueAddress = 1002;
// The envelope is kept in memory to be sent to each server in turn.
constexpr size_t kMaxEnvelope = size_t{64} << 20;
// Messages larger than this go to an unlinked temporary file.
constexpr size_t kSpillBytes = size_t{1} << 20;

// The instance: invoked as qmail-queue (a "mini-qmail" installation), the
// directory its program lives in (DIR/bin/qmail-queue -> DIR), ignoring
// the environment like qmail-queue; otherwise $QMAILHOME first
// (home_trusting_env()). argv0 is the name we were run by.
std::string choose_home(std::string_view argv0);

// The message, read whole before the first connection because QMQP sends
// its length first: in memory up to kSpillBytes, beyond that in an
// unlinked file in $TMPDIR (default /tmp).
class Spool {
 public:
  // Reads fd to its end. Returns kOk, or kReadError, kWriteError (the
  // temporary file), kNoMem.
  int load(int fd);
  uint64_t size() const { return size_; }
  // Writes the whole message to w (errors are w's, sticky).
  Status write_to(Writer& w) const;

 private:
  int spill();

  std::string mem_;
  Fd file_;
  uint64_t size_ = 0;
};

// Reads qmail-queue's envelope (F sender \0, T recipient \0 ..., \0) and
// builds the QMQP envelope bytes (netstrings of the sender and each
// recipient) in `out`. Returns kOk or the exit code: kFormat for a
// missing, truncated or misformed record, kTooLong, kNoMem, kReadError.
int read_envelope(Reader& in, std::string& out);

// Sends the request to one server and reads its reply. Returns the exit
// code when the attempt decided the outcome (K, Z, D, a failure after the
// connection was made, no socket), or -1 when the connection could not be
// made, with `lasterror` set to kTimeout or kRefused.
int try_server(const ServerAddress& server, const Spool& message, const std::string& envelope,
               int& lasterror);

}  // namespace qng::qmqpc

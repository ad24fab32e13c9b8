// qmail-qmqpc: hand a message to a central queue host by QMQP; a drop-in
// for qmail-queue (qmail-qmqpc(8)). No arguments. fd 0: the message; fd 1
// (read): the envelope, F<sender>\0 T<recipient>\0 ... \0. Tries each
// server of control/qmqpservers in order until one answers.
// Exit 0 (K), 31 (D), 71 (Z); 72 / 73 the last server timed out / refused;
// 74 communication failed; 55 no usable control/qmqpservers; 91 envelope
// format; 11 address too long; 51 memory; 53 spool; 54 read; 56 socket;
// 61 no instance directory.
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <new>

#include "control.h"
#include "fd.h"
#include "qmqpc.h"

namespace {

constexpr const char* kUsage =
    "usage: qmail-qmqpc 0<message 1<envelope\n"
    "Sends the message to the first reachable server of control/qmqpservers by QMQP;\n"
    "exits as qmail-queue does. See qmail-qmqpc(8).\n";

int run(const char* argv0) {
  using namespace qng::qmqpc;
  ::signal(SIGPIPE, SIG_IGN);  // a dead server is an EPIPE, then exit 74

  std::string home = choose_home(argv0 ? argv0 : "");
  if (::chdir(home.c_str()) == -1) return kHome;
  auto servers = qng::Control("control").lines("qmqpservers");
  if (!servers || servers->empty()) return kControl;

  Spool message;
  if (int code = message.load(0); code != kOk) return code;
  qng::Reader in(1);
  std::string envelope;
  if (int code = read_envelope(in, envelope); code != kOk) return code;

  int lasterror = kControl;  // no usable server at all
  for (const auto& line : *servers) {
    auto server = qng::parse_server_address(line);
    if (!server) continue;  // as qmail: a line that is not an address is skipped
    if (int code = try_server(*server, message, envelope, lasterror); code >= 0) return code;
  }
  return lasterror;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    return qng::write_all(1, kUsage) ? 0 : 1;
  }
  return run(argc > 0 ? argv[0] : nullptr);
} catch (const std::bad_alloc&) {
  return qng::qmqpc::kNoMem;
} catch (...) {
  return 81;  // qmail-queue's "internal bug"
}

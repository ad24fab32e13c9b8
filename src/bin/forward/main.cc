// forward address ...: queues the message on fd 0 anew, for every address,
// with envelope sender $NEWSENDER and $DTLINE in front of it (a .qmail
// helper: `|forward "$DEFAULT"@example.org`). Prints "forward: qp N" on
// fd 2. Exit 0 queued, 100 permanent failure, 111 temporary.
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fd.h"
#include "instance.h"
#include "requeue.h"

namespace {

constexpr const char* kFatal = "forward: fatal: ";
constexpr const char* kUsage = "forward: usage: forward address [ address ... ]";

int die(int code, const std::string& text) {
  (void)qng::write_all(2, text + "\n");
  return code;
}

}  // namespace

int main(int argc, char** argv) try {
  ::signal(SIGPIPE, SIG_IGN);
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    (void)qng::write_all(1, std::string(kUsage) + "\n");
    return 0;
  }
  if (argc < 2) return die(100, kUsage);
  const char* sender = std::getenv("NEWSENDER");
  if (!sender) return die(100, std::string(kFatal) + "NEWSENDER not set");
  const char* dtline = std::getenv("DTLINE");
  if (!dtline) return die(100, std::string(kFatal) + "DTLINE not set");

  auto queued = qng::requeue(qng::home_trusting_env(), dtline, sender,
                             std::vector<std::string>(argv + 1, argv + argc));
  if (!queued) return die(111, kFatal + queued.error().message());
  const std::string& qqx = queued->qqx;
  if (!qqx.empty()) return die(qqx[0] == 'D' ? 100 : 111, kFatal + qqx.substr(1));
  return die(0, "forward: qp " + std::to_string(queued->qp));
} catch (...) {
  return die(111, std::string(kFatal) + "out of memory");
}

// forward address ...: queues the message on fd 0 anew, for every address,
// with envelope sender $NEWSENDER and $DTLINE in front of it (a .qmail
// helper: `|forward "$DEFAULT"@example.org`). Prints "forward: qp N" on
// fd 2. Exit 0 queued, 100 permanent failure, 111 temporary.
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fd.h"
#include "instance.h"
#include "qqclient.h"

namespace {

constexpr const char* kFatal = "forward: fatal: ";
constexpr const char* kUsage = "forward: usage: forward address [ address ... ]";
constexpr size_t kChunk = 65536;

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

  auto started = qng::QueueClient::start(qng::home_trusting_env());
  if (!started) return die(111, kFatal + started.error().message());
  qng::QueueClient& qq = *started;
  qq.put(dtline);
  std::string buf(kChunk, '\0');
  for (;;) {
    auto n = qng::read_some(0, buf.data(), buf.size());
    if (!n) return die(111, std::string(kFatal) + "unable to read message: " +
                                std::strerror(n.error().code()));
    if (*n == 0) break;
    qq.put(std::string_view(buf.data(), *n));
  }
  const std::string qp = std::to_string(qq.pid());
  qq.from(sender);
  for (int i = 1; i < argc; ++i) qq.to(argv[i]);
  const std::string qqx = qq.finish();
  if (!qqx.empty()) return die(qqx[0] == 'D' ? 100 : 111, kFatal + qqx.substr(1));
  return die(0, "forward: qp " + qp);
} catch (...) {
  return die(111, std::string(kFatal) + "out of memory");
}
